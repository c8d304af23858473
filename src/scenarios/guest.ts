import { DEFAULTS, LIMITS, virtioBlkPoolSizeIncrease } from "../vmconfig/qemu-rules.js";
import type { DeviceConfig, GuestConfig } from "./types.js";

/** The virtqueues one virtio-blk device may have: 1 to VIRTIO_QUEUE_MAX (vmconfig/qemu-rules.ts LIMITS). */
export const MAX_NUM_QUEUES = LIMITS.virtioBlkNumQueues.max;
/**
 * The queue sizes QEMU takes for virtio-blk: a power of two from 4 to
 * VIRTQUEUE_MAX_SIZE; it refuses 2 ("must be > 2", vmconfig/qemu-rules.ts LIMITS).
 */
export const MIN_QUEUE_SIZE = LIMITS.virtioBlkQueueSize.min;
export const MAX_QUEUE_SIZE = LIMITS.virtioBlkQueueSize.max;
/** QEMU's virtio-blk queue-size default. */
export const DEFAULT_QUEUE_SIZE = Number(DEFAULTS["virtio-blk-device"]["queue-size"].value);
/** Devices one guest may have. */
export const MAX_DEVICES = 32;

/**
 * What one virtio-blk device adds to QEMU's coroutine pool size when it is
 * realized: half its queue entries (`num_queues * queue_size / 2`), so a
 * guest with many deep queues is not held to the default pool of 64. It is
 * also what lets legacy's per-thread pools grow large enough to exhaust VMAs.
 */
export function devicePoolSizeIncrease(device: Pick<DeviceConfig, "numQueues" | "queueSize">): number {
  return virtioBlkPoolSizeIncrease(device.numQueues, device.queueSize);
}

/** What all of a guest's devices add to the pool size. */
export function guestPoolSizeIncrease(guest: Pick<GuestConfig, "devices">): number {
  return guest.devices.reduce((sum, device) => sum + devicePoolSizeIncrease(device), 0);
}

/**
 * Queue entries each IOThread serves: a device's queues go round-robin over
 * its IOThreads (QEMU's iothread-vq-mapping without explicit `vqs`), and each
 * queue brings `queueSize` entries. This bounds the requests an IOThread can
 * have in flight, so it is what stress bursts are fractions of.
 */
export function iothreadQueueEntries(guest: Pick<GuestConfig, "iothreads" | "devices">): number[] {
  const entries = new Array<number>(guest.iothreads).fill(0);
  for (const device of guest.devices) {
    for (let queue = 0; queue < device.numQueues; queue++) {
      entries[device.iothreads[queue % device.iothreads.length]!]! += device.queueSize;
    }
  }
  return entries;
}
