import { InputError } from "../errors.js";
import { shownText } from "../message-text.js";
import { isVirtioBlkQueueSize, VIRTIO_BLK_QUEUE_SIZE, VIRTIO_QUEUE_MAX } from "../virtio-limits.js";

/** One virtio-blk device as the pool sees it. */
export interface VirtioBlkDevice {
  numQueues: number;
  queueSize: number;
}

/**
 * "NQxQS,NQxQS,...": one virtio-blk device per item, num-queues × queue-size
 * (e.g. "2x512,4x256"), as given to QEMU by -device virtio-blk,num-queues=NQ,queue-size=QS.
 */
export function parseVirtioBlkSpec(spec: string): VirtioBlkDevice[] {
  return spec.split(",").map((item) => {
    const m = /^\s*(\d+)\s*[xX]\s*(\d+)\s*$/.exec(item);
    const numQueues = m ? Number(m[1]) : NaN;
    const queueSize = m ? Number(m[2]) : NaN;
    if (!(numQueues >= 1 && numQueues <= VIRTIO_QUEUE_MAX) || !isVirtioBlkQueueSize(queueSize)) {
      throw new InputError(
        "ERR_USAGE",
        `bad virtio-blk device '${shownText(item, 40)}'; write NUM_QUEUESxQUEUE_SIZE (num-queues 1 to ${VIRTIO_QUEUE_MAX}, queue-size a power of two from ${VIRTIO_BLK_QUEUE_SIZE.min} to ${VIRTIO_BLK_QUEUE_SIZE.max}), comma-separated, e.g. 2x512,4x256`,
      );
    }
    return { numQueues, queueSize };
  });
}


/**
 * What the devices add to the pool size: virtio-blk's realize calls
 * qemu_coroutine_inc_pool_size(num_queues * queue_size / 2) (QEMU ≥ 7.0), so
 * a request in every slot of every queue finds a pooled coroutine. Emulated
 * NVMe and most other devices add nothing.
 */
export function poolIncreaseFor(devices: readonly VirtioBlkDevice[]): number {
  return devices.reduce((sum, d) => sum + Math.floor((d.numQueues * d.queueSize) / 2), 0);
}
