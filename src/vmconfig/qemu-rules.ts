/**
 * QEMU's own defaults, compat rules and limits for the values that decide
 * coroutine demand, each with where it lives in QEMU's source. Versions read
 * (qemu/qemu on GitHub, through the project's code search; line numbers are
 * given where the version read was counted, else the function is named):
 * - hw/core/machine.c @ 003f230e (6.2 development): hw_compat_5_1 at line 60,
 *   hw_compat_4_2 at line 84;
 * - hw/block/virtio-blk.c, the 8.x version with virtio_blk_drained_begin:
 *   virtio_blk_device_realize() and virtio_blk_properties[];
 * - hw/virtio/virtio-pci.c (8.x): virtio_pci_optimal_num_queues();
 * - hw/scsi/virtio-scsi.c @ 7ea53245 (4.x) and the 5.x patches that changed
 *   its defaults: virtio_scsi_common_realize(), virtio_scsi_properties[];
 * - hw/nvme/ctrl.c (8.x): nvme_check_params() (was nvme_check_constraints())
 *   and nvme_props[].
 */

export interface QemuVersion {
  readonly major: number;
  readonly minor: number;
}

/** VIRTQUEUE_MAX_SIZE and VIRTIO_QUEUE_MAX, include/hw/virtio/virtio.h: both 1024. */
export const VIRTQUEUE_MAX_SIZE = 1024;
export const VIRTIO_QUEUE_MAX = 1024;
/** PCI_MSIX_FLAGS_QSIZE, include/standard-headers/linux/pci_regs.h: the MSI-X table size field, 0x7ff. */
export const PCI_MSIX_FLAGS_QSIZE = 0x7ff;
/** NVME_MAX_IOQPAIRS, hw/nvme/nvme.h: 0xffff. */
export const NVME_MAX_IOQPAIRS = 0xffff;

/** virtio-scsi's fixed virtqueues (control and event), VIRTIO_SCSI_VQ_NUM_FIXED in include/hw/virtio/virtio-scsi.h. */
export const VIRTIO_SCSI_FIXED_QUEUES = 2;

/**
 * num-queues / num_queues left at "auto" on a virtio PCI device:
 * virtio_pci_optimal_num_queues(fixed) in hw/virtio/virtio-pci.c takes the
 * vCPU count (smp.cpus), capped by the MSI-X vectors left after the fixed
 * queues and by VIRTIO_QUEUE_MAX less the fixed queues. Only the PCI
 * transports call it (virtio-blk-pci.c and virtio-scsi-pci.c realize); the
 * device itself turns "auto" into 1 (virtio_blk_device_realize(),
 * virtio_scsi_common_realize()), which is what ccw and mmio get.
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
 * The compat properties that touch demand. hw_compat_X_Y is added by every
 * machine type X.Y and older (pc_q35_X_Y_machine_options calls the next
 * newer one, then compat_props_add(hw_compat_X_Y)), so a rule "through 5.1"
 * holds for 5.1, 5.0, 4.2, … .
 */
export const COMPAT_RULES: readonly CompatRule[] = [
  // machine.c:64 and :65 — multiqueue by default came with 5.2 (the "auto" default).
  { through: { major: 5, minor: 1 }, driver: "virtio-blk-device", property: "num-queues", value: "1", source: "hw/core/machine.c:64 hw_compat_5_1" },
  { through: { major: 5, minor: 1 }, driver: "virtio-scsi-device", property: "num_queues", value: "1", source: "hw/core/machine.c:65 hw_compat_5_1" },
  // machine.c:85 and :86 — the 256-entry virtqueues came with 5.0.
  { through: { major: 4, minor: 2 }, driver: "virtio-blk-device", property: "queue-size", value: "128", source: "hw/core/machine.c:85 hw_compat_4_2" },
  { through: { major: 4, minor: 2 }, driver: "virtio-scsi-device", property: "virtqueue_size", value: "128", source: "hw/core/machine.c:86 hw_compat_4_2" },
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
 * "auto" is VIRTIO_BLK_AUTO_NUM_QUEUES / VIRTIO_SCSI_AUTO_NUM_QUEUES
 * (UINT16_MAX / UINT32_MAX), resolved at realize by the transport.
 */
export const DEFAULTS = {
  "virtio-blk-device": {
    "num-queues": { value: "auto", source: "hw/block/virtio-blk.c virtio_blk_properties[] (VIRTIO_BLK_AUTO_NUM_QUEUES)" },
    "queue-size": { value: "256", source: "hw/block/virtio-blk.c virtio_blk_properties[]" },
  },
  "virtio-scsi-device": {
    num_queues: { value: "auto", source: "hw/scsi/virtio-scsi.c virtio_scsi_properties[] (VIRTIO_SCSI_AUTO_NUM_QUEUES)" },
    virtqueue_size: { value: "256", source: "hw/scsi/virtio-scsi.c virtio_scsi_properties[]" },
    cmd_per_lun: { value: "128", source: "hw/scsi/virtio-scsi.c virtio_scsi_properties[]" },
  },
  nvme: {
    max_ioqpairs: { value: "64", source: "hw/nvme/ctrl.c nvme_props[]" },
    num_queues: { value: "0", source: "hw/nvme/ctrl.c nvme_props[] (deprecated; when set, max_ioqpairs = num_queues - 1 in nvme_check_params())" },
    mqes: { value: "2047", source: "hw/nvme/ctrl.c nvme_props[] (0x7ff: CAP.MQES, zero-based, so 2048 entries a queue)" },
  },
  "virtio-pci": {
    ioeventfd: { value: "on", source: "hw/virtio/virtio-pci.c: each virtio PCI device's \"ioeventfd\" property (VIRTIO_PCI_FLAG_USE_IOEVENTFD_BIT, true)" },
  },
} as const satisfies Record<string, Record<string, PropertyDefault>>;

/**
 * The most requests a device's queues let the guest keep in flight, and the
 * coroutines each request can hold at once (the plan's demand, see
 * src/plan/demand.ts). Values as read from QEMU's source; each cites its place.
 */
/** AHCI_MAX_CMDS, hw/ide/ahci.h: the NCQ command slots of one AHCI port. */
export const AHCI_MAX_CMDS = 32;
/** An IDE bus runs one command at a time (hw/ide/core.c: one IDEState active per bus, its single BlockAIOCB). */
export const IDE_REQUESTS_PER_BUS = 1;
/**
 * An NVMe submission queue of N entries holds at most N - 1 commands: the
 * queue is full when the tail is one behind the head (NVMe base spec, "Queue
 * Full"; hw/nvme/ctrl.c nvme_sq_full()).
 */
export function nvmeCommandsPerQueue(entries: number): number {
  return entries - 1;
}
/** Coroutines one NVMe request can hold at once (hw/nvme/ctrl.c: see NVME_TWO_COROUTINES_WHY). */
export const NVME_COROUTINES_PER_REQUEST = 2;
export const NVME_TWO_COROUTINES_WHY = "hw/nvme/ctrl.c: a request's data and its metadata are separate block requests";
