/**
 * The typed model of what decides a VM's coroutine demand: the machine type,
 * the vCPUs, the IOThreads, and per storage device the values that bound its
 * requests in flight and the pool size it adds. Every value says where it
 * came from, so a plan can show how each bound was derived. Built from a
 * command line or a libvirt domain (both through `VmSpec`, vm-spec.ts) by
 * build-model.ts.
 */

/**
 * Where a value came from, in QEMU's order of precedence (lowest first):
 * the device's own default, a machine-type compat property, a `-global`,
 * the value given on the device. "derived" is computed at realize from other
 * values (num-queues "auto" from the vCPUs).
 */
export type Origin = "default" | "machine-compat" | "global" | "given" | "derived";

export interface Sourced<T> {
  readonly value: T;
  readonly from: Origin;
  /** What set it: the QEMU source of a default or compat rule, the `-global` text, the derivation. */
  readonly why: string;
}

export interface MachineInfo {
  /** As named (`pc-q35-7.2`, `q35`, `virt-8.2`), or QEMU's default for the target. */
  readonly type: Sourced<string>;
  /** The version a versioned type pins (7.2 for pc-q35-7.2); null for an alias of the newest. */
  readonly version: { readonly major: number; readonly minor: number } | null;
}

/** One IOThread (`-object iothread,id=…`, or libvirt's `<iothreads>`). */
export interface IoThread {
  readonly id: string;
}

/** An -iothread-vq-mapping entry: the IOThread and the virtqueues it runs (null: QEMU spreads them round-robin). */
export interface VqMapping {
  readonly iothread: string;
  readonly vqs: readonly number[] | null;
}

/** The block node chain a device's drive= names: top node first. */
export interface Backend {
  readonly node: string;
  readonly drivers: readonly string[];
}

interface DeviceBase {
  /** The device's id= (libvirt's alias), or null. */
  readonly id: string | null;
  /** The QOM type as given: virtio-blk-pci, scsi-hd, nvme, … */
  readonly driver: string;
}

export type Transport = "pci" | "ccw" | "mmio";

export interface VirtioBlk extends DeviceBase {
  readonly kind: "virtio-blk";
  readonly transport: Transport;
  readonly backend: Backend | null;
  readonly numQueues: Sourced<number>;
  readonly queueSize: Sourced<number>;
  readonly iothread: string | null;
  readonly iothreadVqMapping: readonly VqMapping[] | null;
  /** off: the guest's notifications are handled in the vCPU thread that wrote them. */
  readonly ioeventfd: Sourced<boolean>;
}

export interface ScsiDisk extends DeviceBase {
  readonly kind: "scsi-disk";
  readonly backend: Backend | null;
}

export interface VirtioScsi extends DeviceBase {
  readonly kind: "virtio-scsi";
  readonly transport: Transport;
  readonly numQueues: Sourced<number>;
  readonly virtqueueSize: Sourced<number>;
  /** The guest may queue at most this many commands a LUN. */
  readonly cmdPerLun: Sourced<number>;
  readonly iothread: string | null;
  readonly iothreadVqMapping: readonly VqMapping[] | null;
  readonly ioeventfd: Sourced<boolean>;
  readonly disks: readonly ScsiDisk[];
}

/** A SCSI host adapter other than virtio-scsi (lsi53c895a, megasas, pvscsi, …): its disks, no queue values. */
export interface OtherScsiHba extends DeviceBase {
  readonly kind: "scsi-hba";
  readonly disks: readonly ScsiDisk[];
}

export interface NvmeNamespace {
  readonly id: string | null;
  readonly nsid: number | null;
  readonly backend: Backend | null;
}

export interface Nvme extends DeviceBase {
  readonly kind: "nvme";
  /** I/O queue pairs the guest may create (the admin pair is extra). */
  readonly maxIoqpairs: Sourced<number>;
  /** Entries a queue may hold: CAP.MQES + 1. */
  readonly queueEntries: Sourced<number>;
  readonly namespaces: readonly NvmeNamespace[];
}

/** An IDE or SATA (AHCI) disk: its requests start in the vCPU thread that touched the port. */
export interface IdeDisk extends DeviceBase {
  readonly kind: "ide";
  readonly bus: "ide" | "ahci";
  /**
   * The IDE bus or AHCI port it is on, as QEMU names it ("ide.1" on pc, "ide.2"
   * on q35's own AHCI, "ahci0.0" on an added one), or null where the
   * command line leaves QEMU to pick. The disks of one IDE bus share its one
   * command at a time; an AHCI port holds one disk.
   */
  readonly channel: string | null;
  readonly backend: Backend | null;
}

export type StorageDevice = VirtioBlk | VirtioScsi | OtherScsiHba | Nvme | IdeDisk;

/** A device or option that does not decide demand, and why. */
export interface Ignored {
  readonly what: string;
  readonly why: string;
}

export interface VmModel {
  readonly name: string | null;
  /** The emulator program as named in the input, if it named one. */
  readonly emulator: string | null;
  readonly machine: MachineInfo;
  /** vCPUs at boot (smp.cpus): the count num-queues "auto" follows. */
  readonly vcpus: Sourced<number>;
  readonly iothreads: readonly IoThread[];
  readonly devices: readonly StorageDevice[];
  readonly ignored: readonly Ignored[];
}
