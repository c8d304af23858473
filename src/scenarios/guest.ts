import type { DeviceConfig, GuestConfig } from "./types.js";

/** virtio's VIRTIO_QUEUE_MAX: the most virtqueues one device can have. */
export const MAX_NUM_QUEUES = 1024;
/** virtio's VIRTQUEUE_MAX_SIZE; QEMU also insists on a power of two, at least 2. */
export const MIN_QUEUE_SIZE = 2;
export const MAX_QUEUE_SIZE = 1024;
/** QEMU's virtio-blk queue-size default. */
export const DEFAULT_QUEUE_SIZE = 256;
/** Devices one guest may have. */
export const MAX_DEVICES = 32;

/**
 * What one virtio-blk device adds to QEMU's coroutine pool size when it is
 * realized: half its queue entries (`num_queues * queue_size / 2`), so a
 * guest with many deep queues is not held to the default pool of 64. It is
 * also what lets legacy's per-thread pools grow large enough to exhaust VMAs.
 */
export function devicePoolSizeIncrease(device: Pick<DeviceConfig, "numQueues" | "queueSize">): number {
  return Math.floor((device.numQueues * device.queueSize) / 2);
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
