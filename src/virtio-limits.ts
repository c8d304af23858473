/**
 * virtio's limits that every floor checking a virtio-blk device takes (the
 * replay's --virtio-blk below, the VM model and the scenarios above), as
 * QEMU has them: one place, cited in src/vmconfig/qemu-rules.ts.
 */

/** include/hw/virtio/virtio.h:63 VIRTQUEUE_MAX_SIZE (7.2: 64); :80 VIRTIO_QUEUE_MAX (7.2: 79). Both 1024. */
export const VIRTQUEUE_MAX_SIZE = 1024;
export const VIRTIO_QUEUE_MAX = 1024;

/**
 * hw/block/virtio-blk.c:1716-1726 (7.2: 1148-1158): queue-size must be > 2,
 * a power of 2 and at most VIRTQUEUE_MAX_SIZE, so 4 is the smallest QEMU takes.
 */
export const VIRTIO_BLK_QUEUE_SIZE = { min: 4, max: VIRTQUEUE_MAX_SIZE, powerOfTwo: true } as const;

/** Whether `n` is a queue size QEMU takes for virtio-blk. */
export function isVirtioBlkQueueSize(n: number): boolean {
  const { min, max } = VIRTIO_BLK_QUEUE_SIZE;
  return Number.isInteger(n) && n >= min && n <= max && (n & (n - 1)) === 0;
}
