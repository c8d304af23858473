/**
 * QEMU's own defaults, compat rules, limits and request paths for the values
 * that decide coroutine demand, each with the file and line where it lives.
 *
 * Versions read (Debian's source packages, unpacked outside the project):
 * - "10.0.2": qemu_10.0.2+ds.orig.tar.xz (bookworm-backports);
 * - "7.2": 7.2+dfsg-7+deb12u18 as bookworm ships it, i.e. 7.2.0 with
 *   Debian's patches applied, the stable releases up to 7.2.22 among them
 *   (the binary /usr/bin/qemu-system-x86_64 here). Its line numbers are those
 *   of the patched tree; where the plain 7.2.0 differs it does not change a
 *   rule below.
 * A citation reads `file:line` for 10.0.2, then `(7.2: line)` where 7.2's
 * line differs, or `(7.2: none)` where 7.2 has no such code.
 * test/vmconfig-qemu.test.ts checks the defaults, compat rules, refusals and
 * drive placement below against the installed 7.2 binary itself (info qtree,
 * info block, its refusals word for word).
 */

export interface QemuVersion {
  readonly major: number;
  readonly minor: number;
}

/** The newest version read that is known to lack a property (see PROPERTIES_ABSENT). */
const V7_2: QemuVersion = { major: 7, minor: 2 };

import { isVirtioBlkQueueSize, VIRTIO_BLK_QUEUE_SIZE, VIRTIO_QUEUE_MAX, VIRTQUEUE_MAX_SIZE } from "../virtio-limits.js";

export { isVirtioBlkQueueSize, VIRTIO_QUEUE_MAX, VIRTQUEUE_MAX_SIZE };
/** include/standard-headers/linux/pci_regs.h:325 (7.2: 324) PCI_MSIX_FLAGS_QSIZE: the MSI-X table size field, 0x7ff. */
export const PCI_MSIX_FLAGS_QSIZE = 0x7ff;
/** hw/nvme/ctrl.c:216 (7.2: 205) NVME_MAX_IOQPAIRS: 0xffff. */
export const NVME_MAX_IOQPAIRS = 0xffff;

/** include/hw/virtio/virtio-scsi.h:39 VIRTIO_SCSI_VQ_NUM_FIXED: virtio-scsi's control and event virtqueues. */
export const VIRTIO_SCSI_FIXED_QUEUES = 2;

/**
 * What QEMU accepts for each value that decides demand. QEMU checks these at
 * realize and refuses to start (or, for a virtqueue count above
 * VIRTIO_QUEUE_MAX, aborts in virtio_add_queue()); build-model.ts refuses the
 * same values, and src/scenarios/guest.ts takes its bounds from here.
 */
export const LIMITS = {
  /**
   * hw/block/virtio-blk.c:1712-1715 (7.2: 1144-1147) refuses num-queues=0;
   * above VIRTIO_QUEUE_MAX, virtio_add_queue() (hw/virtio/virtio.c:2547-2548,
   * 7.2: 2972-2973) aborts. The property is a uint16 (virtio-blk.c:1867, 7.2: 1281).
   */
  virtioBlkNumQueues: { min: 1, max: VIRTIO_QUEUE_MAX },
  /** src/virtio-limits.ts: > 2, a power of 2, at most VIRTQUEUE_MAX_SIZE (the replay below checks it too). */
  virtioBlkQueueSize: VIRTIO_BLK_QUEUE_SIZE,
  /**
   * hw/scsi/virtio-scsi.c:1288-1296 (7.2: 1024-1032): 0 < num_queues <=
   * VIRTIO_QUEUE_MAX - VIRTIO_SCSI_VQ_NUM_FIXED.
   */
  virtioScsiNumQueues: { min: 1, max: VIRTIO_QUEUE_MAX - VIRTIO_SCSI_FIXED_QUEUES },
  /**
   * hw/scsi/virtio-scsi.c:1297-1301 (7.2: 1033-1037): virtqueue_size > 2 (no
   * power of 2 needed); virtio_add_queue() aborts above VIRTQUEUE_MAX_SIZE.
   */
  virtioScsiVirtqueueSize: { min: 3, max: VIRTQUEUE_MAX_SIZE, powerOfTwo: false },
  /** hw/nvme/ctrl.c:8294-8299 (7.2: 7004-7009) nvme_check_params(): 1 <= max_ioqpairs <= NVME_MAX_IOQPAIRS. */
  nvmeMaxIoqpairs: { min: 1, max: NVME_MAX_IOQPAIRS },
  /** hw/nvme/ctrl.c:8313-8316 nvme_check_params(): mqes >= 1; a uint16 (ctrl.c:9085). (7.2: no mqes property.) */
  nvmeMqes: { min: 1, max: 0xffff },
} as const;

/** QEMU's refusals that tie two properties together, word for word where QEMU has words. */
export const REFUSALS = {
  /** hw/block/virtio-blk.c:1436-1441 (7.2: none, 7.2 has no iothread-vq-mapping); hw/scsi/virtio-scsi-dataplane.c:32-36 (7.2: none). */
  iothreadAndMapping: "iothread and iothread-vq-mapping properties cannot be set at the same time",
  /** hw/block/virtio-blk.c:1450-1453 (7.2: hw/block/dataplane/virtio-blk.c:101-104); hw/scsi/virtio-scsi-dataplane.c:46-49 (7.2: 39-42). */
  iothreadNeedsIoeventfd: "ioeventfd is required for iothread",
} as const;

/**
 * Properties the 7.2 tree lacks (QEMU then refuses the command line: the
 * property is not found), all present in 10.0.2. The first version with each
 * lies between the two and was not read, so only QEMU <= 7.2 is held to it.
 */
export const PROPERTIES_ABSENT: readonly { readonly family: "virtio-blk" | "virtio-scsi" | "nvme"; readonly property: string; readonly through: QemuVersion; readonly source: string }[] = [
  { family: "virtio-blk", property: "iothread-vq-mapping", through: V7_2, source: "hw/block/virtio-blk.c:1873 DEFINE_PROP_IOTHREAD_VQ_MAPPING_LIST (7.2: none)" },
  { family: "virtio-scsi", property: "iothread-vq-mapping", through: V7_2, source: "hw/scsi/virtio-scsi.c:1384 DEFINE_PROP_IOTHREAD_VQ_MAPPING_LIST (7.2: none)" },
  { family: "nvme", property: "mqes", through: V7_2, source: "hw/nvme/ctrl.c:9085 DEFINE_PROP_UINT16(\"mqes\") (7.2: none; CAP.MQES fixed at 0x7ff, ctrl.c:7487)" },
];

/**
 * num-queues / num_queues left at "auto" on a virtio PCI device:
 * virtio_pci_optimal_num_queues(fixed), hw/virtio/virtio-pci.c:2547-2576
 * (7.2: 2254-2283), takes smp.cpus, capped by the MSI-X vectors left after
 * the fixed queues and by VIRTIO_QUEUE_MAX less the fixed queues. Only the PCI
 * transports call it (hw/virtio/virtio-blk-pci.c:55-56, 7.2: 56-57;
 * hw/virtio/virtio-scsi-pci.c:53-55, 7.2: 54-56); the device itself turns
 * "auto" into 1 (virtio-blk.c:1709-1711, 7.2: 1141-1143; virtio-scsi.c:1285-1287,
 * 7.2: 1021-1023), which is what ccw and mmio get.
 */
export function optimalPciQueues(vcpus: number, fixedQueues: number): number {
  return Math.min(vcpus, PCI_MSIX_FLAGS_QSIZE - fixedQueues, VIRTIO_QUEUE_MAX - fixedQueues);
}

/**
 * The version a property default follows: the older of the QEMU binary and
 * the machine type. Machine-type compat properties exist to keep an old
 * machine type's device defaults on a newer QEMU, so the defaults of QEMU
 * X.Y and of machine type X.Y are the same for every property listed here.
 */
export function versionAtMost(v: QemuVersion, limit: QemuVersion): boolean {
  return v.major < limit.major || (v.major === limit.major && v.minor <= limit.minor);
}

/** One machine-type compat property (a GlobalProperty in hw_compat_X_Y[]). */
export interface CompatRule {
  /** The newest machine type the rule applies to: it is in hw_compat_X_Y, applied to types <= X.Y. */
  readonly through: QemuVersion;
  readonly driver: string;
  readonly property: string;
  readonly value: string;
  /** Where it is in QEMU's source. */
  readonly source: string;
}

/**
 * The compat properties that touch demand: in both versions read, no other
 * hw_compat_*[] entry (hw/core/machine.c) and no pc/q35 compat sets a
 * virtio-blk, virtio-scsi or NVMe queue count or size. hw_compat_X_Y is added
 * by every machine type X.Y and older (pc_q35_X_Y_machine_options calls the
 * next newer one, then compat_props_add(hw_compat_X_Y)), so a rule "through
 * 5.1" holds for 5.1, 5.0, 4.2, … .
 */
export const COMPAT_RULES: readonly CompatRule[] = [
  // Multiqueue by default (num-queues "auto") came with 5.2.
  { through: { major: 5, minor: 1 }, driver: "virtio-blk-device", property: "num-queues", value: "1", source: "hw/core/machine.c:148 hw_compat_5_1 (7.2: 91)" },
  { through: { major: 5, minor: 1 }, driver: "virtio-scsi-device", property: "num_queues", value: "1", source: "hw/core/machine.c:149 hw_compat_5_1 (7.2: 92)" },
  // The 256-entry virtqueues came with 5.0.
  { through: { major: 4, minor: 2 }, driver: "virtio-blk-device", property: "queue-size", value: "128", source: "hw/core/machine.c:169 hw_compat_4_2 (7.2: 112)" },
  { through: { major: 4, minor: 2 }, driver: "virtio-scsi-device", property: "virtqueue_size", value: "128", source: "hw/core/machine.c:170 hw_compat_4_2 (7.2: 113)" },
];

/** The compat rules a machine type of version `v` applies. */
export function compatRulesFor(v: QemuVersion): readonly CompatRule[] {
  return COMPAT_RULES.filter((rule) => versionAtMost(v, rule.through));
}

/** A property's default before any compat rule, and where it is declared. */
export interface PropertyDefault {
  readonly value: string;
  readonly source: string;
}

/**
 * Device property defaults (DEFINE_PROP_* in each device's properties[]).
 * "auto" is VIRTIO_BLK_AUTO_NUM_QUEUES (include/hw/virtio/virtio-blk.h:35,
 * 7.2: 34; UINT16_MAX) / VIRTIO_SCSI_AUTO_NUM_QUEUES (virtio-scsi.h:41;
 * UINT32_MAX), resolved at realize by the transport.
 */
export const DEFAULTS = {
  "virtio-blk-device": {
    "num-queues": { value: "auto", source: "hw/block/virtio-blk.c:1867 (7.2: 1281) VIRTIO_BLK_AUTO_NUM_QUEUES" },
    "queue-size": { value: "256", source: "hw/block/virtio-blk.c:1869 (7.2: 1283)" },
  },
  "virtio-scsi-device": {
    num_queues: { value: "auto", source: "hw/scsi/virtio-scsi.c:1368 (7.2: 1097) VIRTIO_SCSI_AUTO_NUM_QUEUES" },
    virtqueue_size: { value: "256", source: "hw/scsi/virtio-scsi.c:1370 (7.2: 1099)" },
    cmd_per_lun: { value: "128", source: "hw/scsi/virtio-scsi.c:1376 (7.2: 1105)" },
  },
  nvme: {
    max_ioqpairs: { value: "64", source: "hw/nvme/ctrl.c:9061 (7.2: 7634)" },
    num_queues: { value: "0", source: "hw/nvme/ctrl.c:9060 (7.2: 7633); deprecated: when set, max_ioqpairs = num_queues - 1 (ctrl.c:8281-8286, 7.2: 6991-6996)" },
    mqes: { value: "2047", source: "hw/nvme/ctrl.c:9085 (0x7ff: CAP.MQES, zero-based, so 2048 entries a queue; 7.2: fixed, ctrl.c:7487)" },
  },
  "virtio-pci": {
    ioeventfd: { value: "on", source: "hw/virtio/virtio-blk-pci.c:43-44, virtio-scsi-pci.c:39 (same in 7.2): VIRTIO_PCI_FLAG_USE_IOEVENTFD_BIT, true" },
  },
} as const satisfies Record<string, Record<string, PropertyDefault>>;

/**
 * The pool size one virtio-blk device adds at realize and takes back at
 * unrealize: qemu_coroutine_inc_pool_size(num_queues * queue_size / 2) at
 * hw/block/virtio-blk.c:1783 (7.2: 1205), qemu_coroutine_dec_pool_size() of the
 * same at :1831 (7.2: 1242). No other device calls either, in either version.
 * The product of two uint16 is an int; the division truncates.
 */
export function virtioBlkPoolSizeIncrease(numQueues: number, queueSize: number): number {
  return Math.floor((numQueues * queueSize) / 2);
}

/**
 * The most requests a device's queues let the guest keep in flight, and the
 * coroutines each request can hold at once (the plan's demand, see
 * src/plan/demand.ts). Values as read from QEMU's source; each cites its place.
 */

/**
 * Requests in flight on one virtqueue: at most its size. virtqueue_pop()
 * refuses to take more ("Virtqueue size exceeded" when inuse >= vring.num),
 * hw/virtio/virtio.c:1703-1704 split ring, :1847-1848 packed ring (7.2:
 * 1986-1987, 2121-2122). The guest may shrink a queue, never grow it.
 */
export function virtqueueRequestsInFlight(queueSize: number): number {
  return queueSize;
}

/**
 * AHCI_MAX_CMDS, hw/ide/ahci-internal.h:35 (7.2: hw/ide/ahci_internal.h:36):
 * the NCQ slots of one AHCI port, each with its own NCQTransferState and
 * aiocb (hw/ide/ahci.c:1070, :1080 dma_blk_read/write, 7.2: 1100, 1110).
 */
export const AHCI_MAX_CMDS = 32;
/**
 * An IDE bus runs one command at a time: master and slave share one
 * IDEDMA whose single aiocb a DMA command holds (hw/ide/core.c:971
 * s->bus->dma->aiocb = dma_blk_io(…), 7.2: 958), and PIO holds s->pio_aiocb
 * (core.c:1100, 7.2: 1088).
 */
export const IDE_REQUESTS_PER_BUS = 1;

/**
 * Commands in flight on one NVMe submission queue of `entries` entries: all
 * of them. QEMU gives each SQ `entries` NvmeRequests (nvme_init_sq(),
 * hw/nvme/ctrl.c:4863-4870, 7.2: 4320-4327; entries = qsize + 1 from Create
 * I/O SQ, :4926, 7.2: 4383) and fetches while one is free
 * (nvme_process_sq(), :7501, 7.2: 6204), moving the SQ head as it fetches
 * (:7532, 7.2: 6212). The ring holds at most entries - 1 unfetched commands
 * ("full" in the NVMe spec), but a command QEMU has fetched no longer takes
 * a ring slot, so a guest that reads the new head from a completion can
 * submit again: the bound is the request array, not the ring. (Linux's nvme
 * driver keeps itself to entries - 1 through its tag set's depth.)
 */
export function nvmeCommandsPerQueue(entries: number): number {
  return entries;
}

/**
 * Why a request can hold two coroutines at once, and only when its handling
 * chains a second block-layer call from the first one's completion.
 *
 * A blk_aio_* call makes one coroutine (blk_aio_prwv(), block/block-backend.c:1600
 * qemu_coroutine_create, 7.2: 1536). That coroutine calls the device's
 * completion callback itself before it terminates (blk_aio_read_entry() and
 * blk_aio_write_entry() end in blk_aio_complete(), :1621 and :1633, 7.2: 1557
 * and 1569). A callback that issues the request's next block call therefore
 * creates the next coroutine while the first still runs: aio_co_enter() only
 * queues it on the running coroutine (util/async.c:705-708, 7.2: 694-697), and
 * the first is released to the pool (coroutine_delete, util/qemu-coroutine.c:306,
 * 7.2: 175) just before the queued one is entered (:298, 7.2: 167). Both
 * stacks exist at that moment; never more than two, since each step waits
 * for the one before.
 */
export const CHAINED_REQUEST_WHY =
  "block/block-backend.c:1621/1633 (7.2: 1557/1569): the completion callback runs inside the finishing coroutine, " +
  "so a callback that issues the next block call creates a second coroutine (block-backend.c:1600, 7.2: 1536) before the first is released (util/qemu-coroutine.c:298-306, 7.2: 167-175)";

/**
 * Coroutines one NVMe command can hold at once: 2. NVMe commands are chains
 * of block calls, each issued from the previous one's completion: a Read or
 * Write on a namespace with metadata reads or writes the metadata from the
 * data's callback (nvme_rw_cb(), hw/nvme/ctrl.c:2184, issuing at :2206 for
 * Write Zeroes and :2223/:2226 for Read/Write; 7.2: 2050, 2072, 2089/2092);
 * DMA that cannot map a PRP/SGL list in one go continues from its own
 * callback (dma_blk_cb(), system/dma-helpers.c:113-184, 7.2:
 * softmmu/dma-helpers.c:113); Compare, Verify, Dataset Management (one
 * range after another, nvme_dsm_cb() :2571, nvme_dsm_md_cb() :2530; 7.2:
 * 2428, 2387), Copy and a Flush of all namespaces (nvme_flush_ns_cb() :3507,
 * 7.2: 3162) likewise. Plain reads and writes without metadata hold one.
 */
export const NVME_COROUTINES_PER_REQUEST = 2;
export const NVME_TWO_COROUTINES_WHY =
  "hw/nvme/ctrl.c:2184-2228 nvme_rw_cb (7.2: 2050-2094): with metadata, the metadata I/O is issued from the data I/O's completion callback, " +
  "inside its coroutine (" + CHAINED_REQUEST_WHY + ")";

/**
 * Coroutines one virtio-blk request holds: 1. Reads and writes go out
 * through submit_requests() (hw/block/virtio-blk.c:259/263 blk_aio_pwritev /
 * blk_aio_preadv, 7.2: 409/413), flush, discard and write-zeroes through one
 * blk_aio_* each (:351, :428, :441; 7.2: 501, 578, 591), and no completion
 * callback issues another. Merging only lowers the count: up to
 * VIRTIO_BLK_MAX_MERGE_REQS (32, include/hw/virtio/virtio-blk.h:95, 7.2: 87)
 * adjacent requests of one direction, popped in one virtio_blk_handle_vq()
 * pass, become one blk_aio_* call (virtio_blk_submit_multireq(), :287-334,
 * 7.2: 437-484; request-merging defaults on, :1865, 7.2: 1279); random I/O
 * merges nothing, so the worst case is one coroutine per request.
 */
export const VIRTIO_BLK_COROUTINES_PER_REQUEST = 1;

/**
 * Coroutines one SCSI disk request (scsi-hd behind virtio-scsi) can hold: 2.
 * A write with FUA on a disk whose cache is on gets its flush from the
 * write's completion (scsi_dma_complete_noio() → scsi_write_do_fua(),
 * hw/scsi/scsi-disk.c:410-420 and :392-402; 7.2: 335-345, 317-327), a read
 * with FUA reads from the flush's completion (:570, 7.2: 497).
 */
export const SCSI_DISK_COROUTINES_PER_REQUEST = 2;

/**
 * Coroutines one IDE or AHCI command can hold: 2. DMA continues from its own
 * completion (ide_dma_cb(), hw/ide/core.c:879, 7.2: 866; NCQ through
 * dma_blk_cb()), TRIM goes range by range from its callback
 * (ide_issue_trim_cb(), core.c:463, 7.2: 450).
 */
export const IDE_COROUTINES_PER_REQUEST = 2;

/**
 * virtio-scsi's cmd_per_lun is not enforced by QEMU: it only reports it to
 * the guest in the config space (hw/scsi/virtio-scsi.c:961, 7.2: 790). A
 * Linux guest's virtio_scsi driver starts each LUN's queue depth from it
 * (its sysfs queue_depth may raise that up to the virtqueue size), so it is
 * a guest's default, not a bound QEMU keeps; QEMU bounds requests only by
 * the virtqueues (virtqueueRequestsInFlight).
 */
export const CMD_PER_LUN_WHY = "hw/scsi/virtio-scsi.c:961 (7.2: 790): only reported to the guest; QEMU bounds requests by the virtqueue size";

/**
 * Coroutines a block driver adds to one request beneath the device's own.
 * qcow2 runs a request that spans several host extents as parallel tasks,
 * each a coroutine of its own, at most QCOW2_MAX_WORKERS (8,
 * block/qcow2.h:72) at once: qcow2_co_preadv_part() and
 * qcow2_co_pwritev_part() make the pool (block/qcow2.c:2422 and :2721; 7.2:
 * 2379, 2674), aio_task_pool_start_task() creates each task's coroutine
 * after waiting for a free slot (block/aio_task.c:89-94, same in 7.2). A
 * request within one extent runs in the caller's coroutine (qcow2.c:2320-2322
 * `if (!pool) return func(task)`; 7.2: 2278-2280). quorum reads and writes
 * every child in a coroutine of its own (block/quorum.c:629, :743).
 * Other drivers (raw, file, host_device, …) add none.
 */
export const BACKEND_EXTRA_COROUTINES: Readonly<Record<string, { readonly most: number; readonly why: string }>> = {
  qcow2: { most: 8, why: "block/qcow2.h:72 QCOW2_MAX_WORKERS; block/qcow2.c:2422/2721 (7.2: 2379/2674); block/aio_task.c:89-94" },
};

/**
 * Which thread creates a request's coroutine and which one ends it. Under
 * legacy each thread has its own allocation pool (util/qemu-coroutine.c:41-42
 * in 7.2, alloc_pool per thread): a coroutine is taken from the creating
 * thread's pool (qemu_coroutine_create(), 7.2: 57-97; 10.0.2: 217) and
 * returned to the global release pool or the ending thread's pool
 * (coroutine_delete(), 7.2: 99-117; 10.0.2: 235).
 */
export const REQUEST_THREADS = {
  /**
   * An IOThread device (iothread= or iothread-vq-mapping with ioeventfd on):
   * the virtqueue's host notifier is handled in the IOThread's AioContext
   * (hw/block/virtio-blk.c:1397 virtio_queue_aio_attach_host_notifier(vq,
   * s->vq_aio_context[i]); 7.2: hw/block/dataplane/virtio-blk.c:256 with
   * s->ctx), so blk_aio_prwv() creates the coroutine there and enters it at
   * once (block-backend.c:1600-1601 aio_co_enter(qemu_get_current_aio_context());
   * 7.2: 1536-1537 bdrv_coroutine_enter() into the node's AioContext, the
   * IOThread's). Completions come back to that AioContext, which re-enters
   * the coroutine there (aio_co_wake(), util/async.c:685-696, 7.2: 674-685,
   * into co->ctx, set on entry at util/qemu-coroutine.c:286, 7.2: 155), and
   * it ends there.
   */
  iothread: "created, run and ended in the IOThread",
  /**
   * A main-loop device (no iothread, ioeventfd on; NVMe always): the
   * notifier is handled in the main loop (10.0.2: vq_aio_context is
   * qemu_get_aio_context(), virtio-blk.c:1475-1479; 7.2: the host notifier's
   * handler, hw/virtio/virtio.c:4371, runs in the main loop). NVMe's doorbell
   * only schedules the SQ's bottom half (hw/nvme/ctrl.c:8220, 7.2: 6930), or
   * its ioeventfd notifier runs nvme_process_sq() (:4762-4770, 7.2:
   * 4220-4228); both in the main loop. Created, run and ended there.
   */
  mainLoop: "created, run and ended in the main loop",
  /**
   * Requests started by a guest register access in the vCPU thread:
   * virtio with ioeventfd=off (virtio_pci_notify_write(),
   * hw/virtio/virtio-pci.c:1710, 7.2: 1467 → virtio_queue_notify(),
   * virtio.c:2494, 7.2: 2919 → the device's handler), IDE (ide_ioport_write(),
   * core.c:1278, 7.2: 1266) and AHCI (ahci_mem_write(), ahci.c:436, 7.2: 466
   * → process_ncq_command() :1093, 7.2: 1123). The vCPU holds the BQL, so its
   * current AioContext is the main one (util/async.c:732-734, 7.2: 733-736),
   * the same as the block node's: aio_co_enter() enters the new coroutine
   * right there in the vCPU thread (async.c:700-710, 7.2: 689-701). Once it
   * yields for I/O, its completion is dispatched by the main loop, which
   * re-enters it in co->ctx, the main AioContext: it ends in the main loop.
   * A request that completes without yielding (an error before any I/O)
   * ends in the vCPU thread. A chained second call (CHAINED_REQUEST_WHY) is
   * created in the main loop, from the first one's completion.
   */
  vcpu: "created in the vCPU thread (under the BQL), ended in the main loop",
} as const;

/**
 * Worker threads of one AioContext's thread pool at most:
 * THREAD_POOL_MAX_THREADS_DEFAULT, include/block/thread-pool.h:23 (same in
 * 7.2), set per AioContext at util/async.c:619 (7.2: 575). file-posix runs
 * its aio=threads reads and writes, and its flushes and discards under any
 * aio mode, on the pool of the node's AioContext (the main loop's or an
 * IOThread's); a worker is a glibc thread: its stack and its guard page are
 * two VMAs, which an idle QEMU does not have (idle workers exit).
 */
export const THREAD_POOL_MAX_THREADS_DEFAULT = 64;
/** The VMAs a glibc thread's stack takes: the stack and its guard page. */
export const THREAD_STACK_VMAS = 2;
