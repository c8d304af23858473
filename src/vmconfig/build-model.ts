/**
 * From a VmSpec to the model: each demand value resolved the way QEMU
 * resolves it (the device default, then the machine type's compat
 * properties, then -global, then the value given; "auto" queue counts at
 * realize), and every value QEMU itself would refuse refused here with one
 * line naming it.
 */
import { InputError } from "../errors.js";
import type {
  Backend, Ignored, IdeDisk, IoThread, MachineInfo, Nvme, NvmeNamespace, OtherScsiHba, ScsiDisk,
  Sourced, StorageDevice, Transport, VirtioBlk, VirtioScsi, VmModel, VqMapping,
} from "./model.js";
import {
  compatRulesFor, DEFAULTS, isVirtioBlkQueueSize, LIMITS, optimalPciQueues, PROPERTIES_ABSENT, REFUSALS, VIRTIO_SCSI_FIXED_QUEUES,
  versionAtMost, type PropertyDefault, type QemuVersion,
} from "./qemu-rules.js";
import { isQ35, type DeviceSpec, type VmSpec } from "./vm-spec.js";

export interface ModelOptions {
  /** The QEMU binary's version; its own defaults are those of its newest machine type. Unknown: the newest rules. */
  readonly qemuVersion?: QemuVersion | null;
  /** A machine type that wins over the input's (the plan's --machine). */
  readonly machineType?: string;
}

/** The machine type QEMU picks on x86 when none is named (`pc`, the newest i440fx). */
const DEFAULT_MACHINE = "pc";

/** Versioned machine types: pc-q35-7.2, pc-i440fx-2.11, pc-1.3, virt-8.2, pseries-5.1, s390-ccw-virtio-4.2. */
const VERSIONED_MACHINE = /^(?:pc-q35|pc-i440fx|pc|virt|pseries|s390-ccw-virtio)-(\d+)\.(\d+)$/;

const SCSI_DISK = new Set(["scsi-hd", "scsi-cd", "scsi-block", "scsi-generic", "scsi-disk"]);
/** "lsi" is QEMU's alias of lsi53c895a (system/qdev-monitor.c:80 qdev_alias_table), as libvirt writes it. */
const OTHER_SCSI_HBA = new Set(["lsi53c895a", "lsi", "lsi53c810", "megasas", "megasas-gen2", "pvscsi", "mptsas1068", "am53c974", "dc390", "spapr-vscsi"]);
const IDE_DISK = new Set(["ide-hd", "ide-cd", "ide-drive"]);
const NOT_QEMU_COROUTINES: Readonly<Record<string, string>> = {
  "vfio-pci": "device passthrough: the host's device serves its requests, not QEMU's block layer",
  "vhost-user-blk-pci": "vhost-user: a separate process serves its requests",
  "vhost-user-scsi-pci": "vhost-user: a separate process serves its requests",
  "vhost-scsi-pci": "vhost-scsi: the host kernel serves its requests",
  "vhost-user-fs-pci": "vhost-user: a separate process serves its requests",
};

export function buildModel(spec: VmSpec, options: ModelOptions = {}): VmModel {
  const machine = options.machineType === undefined ? machineInfo(spec.machineType) : machineInfo(options.machineType, "given as an option");
  const ctx = new Resolver(spec, machine, options.qemuVersion ?? null);
  const iothreads: IoThread[] = spec.iothreads.map((id) => ({ id }));
  const ignored: Ignored[] = [...spec.ignored];
  const devices: StorageDevice[] = [];
  const scsiControllers: (VirtioScsi | OtherScsiHba)[] = [];
  const nvmes: Nvme[] = [];
  const pendingScsiDisks: DeviceSpec[] = [];
  const pendingNamespaces: DeviceSpec[] = [];

  for (const dev of spec.devices) {
    const family = familyOf(dev.driver);
    if (family === "virtio-blk") devices.push(ctx.virtioBlk(dev));
    else if (family === "virtio-scsi") scsiControllers.push(pushed(devices, ctx.virtioScsi(dev)));
    else if (OTHER_SCSI_HBA.has(dev.driver)) scsiControllers.push(pushed(devices, { kind: "scsi-hba", id: dev.props.id ?? null, driver: dev.driver, disks: [] }));
    else if (SCSI_DISK.has(dev.driver)) pendingScsiDisks.push(dev);
    else if (dev.driver === "nvme") nvmes.push(pushed(devices, ctx.nvme(dev)));
    else if (dev.driver === "nvme-ns") pendingNamespaces.push(dev);
    else if (IDE_DISK.has(dev.driver)) devices.push(ctx.ideDisk(dev));
    else ignored.push({ what: describe(dev), why: NOT_QEMU_COROUTINES[dev.driver] ?? "not a storage device" });
  }
  for (const dev of pendingScsiDisks) attachScsiDisk(dev, scsiControllers, ctx, ignored);
  for (const dev of pendingNamespaces) attachNamespace(dev, nvmes, ctx, ignored);

  return {
    name: spec.name,
    emulator: spec.emulator,
    machine,
    vcpus: vcpusOf(spec.smp, options.qemuVersion ?? null),
    iothreads,
    devices,
    ignored,
  };
}

function pushed<T extends StorageDevice>(devices: StorageDevice[], device: T): T {
  devices.push(device);
  return device;
}

function familyOf(driver: string): "virtio-blk" | "virtio-scsi" | null {
  if (/^virtio-blk(-pci(-transitional|-non-transitional)?|-ccw|-device)?$/.test(driver)) return "virtio-blk";
  if (/^virtio-scsi(-pci(-transitional|-non-transitional)?|-ccw|-device)?$/.test(driver)) return "virtio-scsi";
  return null;
}

function transportOf(driver: string, machineType: string): Transport {
  if (driver.endsWith("-ccw")) return "ccw";
  if (driver.endsWith("-device")) return "mmio";
  if (!driver.includes("-pci") && machineType.startsWith("s390")) return "ccw";
  return "pci";
}

function describe(dev: DeviceSpec): string {
  return dev.props.id ? `-device ${dev.driver} (${dev.props.id})` : `-device ${dev.driver}`;
}

export function machineInfo(type: string | null, givenBy = "-machine"): MachineInfo {
  const named = type !== null && type !== "";
  const value = named ? type : DEFAULT_MACHINE;
  // Proxmox pins its own revision on top: pc-i440fx-8.1+pve0.
  const m = VERSIONED_MACHINE.exec(value.replace(/\+pve\d+$/, ""));
  return {
    type: { value, from: named ? "given" : "default", why: named ? givenBy : "QEMU's default machine type on x86" },
    version: m ? { major: Number(m[1]), minor: Number(m[2]) } : null,
  };
}

/**
 * smp.cpus, the vCPUs at boot: given, else maxcpus, else the topology's
 * product, a missing level counting 1 (hw/core/machine-smp.c:210-213
 * machine_parse_smp_config(), 7.2: 150-151 without drawers, books and
 * modules); 1 with no -smp at all. A 0 is refused ("CPU topology
 * parameters must be greater than zero", machine-smp.c:105-117), except
 * by QEMU 7.2 and older, which only warn and count it as omitted (7.2:
 * 87-96).
 */
function vcpusOf(given: Readonly<Record<string, string>> | null, qemuVersion: QemuVersion | null): Sourced<number> {
  if (!given) return { value: 1, from: "default", why: "no -smp: one vCPU (MachineClass default_cpus)" };
  const zeroIsOmitted = qemuVersion !== null && versionAtMost(qemuVersion, { major: 7, minor: 2 });
  const smp = zeroIsOmitted ? Object.fromEntries(Object.entries(given).filter(([, v]) => parseInteger(v) !== 0)) : given;
  if (smp.cpus !== undefined) return { value: smpNumber(smp, "cpus"), from: "given", why: "-smp cpus" };
  if (smp.maxcpus !== undefined) return { value: smpNumber(smp, "maxcpus"), from: "derived", why: "-smp: cpus omitted, so cpus = maxcpus (hw/core/machine-smp.c:213)" };
  const parts = SMP_LEVELS.filter((k) => smp[k] !== undefined);
  const product = parts.reduce((n, k) => n * smpNumber(smp, k), 1);
  return { value: product, from: "derived", why: `-smp: cpus = ${parts.join(" × ") || "1"} (hw/core/machine-smp.c:210-213)` };
}

/** The topology levels -smp multiplies (hw/core/machine-smp.c:210-211). */
const SMP_LEVELS = ["drawers", "books", "sockets", "dies", "clusters", "modules", "cores", "threads"] as const;

function smpNumber(smp: Readonly<Record<string, string>>, key: string): number {
  const n = parseInteger(smp[key]!);
  if (n === null || n < 1) throw new InputError("ERR_QEMU_VALUE", `bad -smp ${key}=${smp[key]}; allowed: a whole number of at least 1 (QEMU: "CPU topology parameters must be greater than zero")`);
  return n;
}

function parseInteger(text: string): number | null {
  if (/^\d+$/.test(text)) return Number(text);
  if (/^0x[0-9a-f]+$/i.test(text)) return Number.parseInt(text, 16);
  return null;
}

/** Resolves device properties for one VM: its machine type's compat rules, its -globals, its IOThreads. */
class Resolver {
  private readonly machineType: string;
  private readonly ruleVersion: QemuVersion | null;
  private readonly ruleFromMachine: boolean;

  constructor(
    private readonly spec: VmSpec,
    machine: MachineInfo,
    private readonly qemuVersion: QemuVersion | null,
  ) {
    this.machineType = machine.type.value;
    const mv = machine.version;
    // The older of the machine type and the binary decides (qemu-rules.ts versionAtMost).
    const machineOlder = mv !== null && (qemuVersion === null || mv.major < qemuVersion.major || (mv.major === qemuVersion.major && mv.minor <= qemuVersion.minor));
    this.ruleVersion = machineOlder ? mv : qemuVersion;
    this.ruleFromMachine = machineOlder;
  }

  virtioBlk(dev: DeviceSpec): VirtioBlk {
    const types = ["virtio-device", "virtio-blk-device", "virtio-pci", "virtio-blk-pci", dev.driver];
    const transport = transportOf(dev.driver, this.machineType);
    const rawQueues = this.property(dev, types, "num-queues", DEFAULTS["virtio-blk-device"]["num-queues"]);
    const givenQueues = this.number(dev, rawQueues.value === "auto" ? null : rawQueues, "num-queues", 0xffff);
    const numQueues = givenQueues ?? this.autoQueues(transport, 0, "hw/virtio/virtio-blk-pci.c:55-56", "hw/block/virtio-blk.c:1709-1711");
    // qemu-rules.ts LIMITS.virtioBlkNumQueues: 0 refused at realize; above VIRTIO_QUEUE_MAX virtio_add_queue() aborts.
    this.within(dev, "num-queues", numQueues.value, LIMITS.virtioBlkNumQueues.min, LIMITS.virtioBlkNumQueues.max);
    const size = this.number(dev, this.property(dev, types, "queue-size", DEFAULTS["virtio-blk-device"]["queue-size"]), "queue-size", 0xffff)!;
    // LIMITS.virtioBlkQueueSize: > 2, a power of 2, at most VIRTQUEUE_MAX_SIZE.
    if (!isVirtioBlkQueueSize(size.value)) {
      throw this.refusal(dev, "queue-size", size.value, `a power of 2 from ${LIMITS.virtioBlkQueueSize.min} to ${LIMITS.virtioBlkQueueSize.max}`);
    }
    const ioeventfd = this.ioeventfd(dev, types);
    const { iothread, mapping } = this.iothreadsOf(dev, "virtio-blk", numQueues.value, ioeventfd.value);
    return {
      kind: "virtio-blk", id: dev.props.id ?? null, driver: dev.driver, transport,
      backend: this.backendOf(dev.props.drive), numQueues, queueSize: size, iothread, iothreadVqMapping: mapping, ioeventfd,
    };
  }

  virtioScsi(dev: DeviceSpec): VirtioScsi {
    const types = ["virtio-device", "virtio-scsi-common", "virtio-scsi-device", "virtio-pci", "virtio-scsi-pci", dev.driver];
    const transport = transportOf(dev.driver, this.machineType);
    const d = DEFAULTS["virtio-scsi-device"];
    const raw = this.property(dev, types, "num_queues", d.num_queues);
    const given = this.number(dev, raw.value === "auto" ? null : raw, "num_queues", 0xffffffff);
    const numQueues = given ?? this.autoQueues(transport, VIRTIO_SCSI_FIXED_QUEUES, "hw/virtio/virtio-scsi-pci.c:53-55", "hw/scsi/virtio-scsi.c:1285-1287");
    // LIMITS.virtioScsiNumQueues: 0 < num_queues <= VIRTIO_QUEUE_MAX - 2.
    this.within(dev, "num_queues", numQueues.value, LIMITS.virtioScsiNumQueues.min, LIMITS.virtioScsiNumQueues.max);
    const size = this.number(dev, this.property(dev, types, "virtqueue_size", d.virtqueue_size), "virtqueue_size", 0xffffffff)!;
    // LIMITS.virtioScsiVirtqueueSize: > 2; virtio_add_queue() aborts above VIRTQUEUE_MAX_SIZE.
    this.within(dev, "virtqueue_size", size.value, LIMITS.virtioScsiVirtqueueSize.min, LIMITS.virtioScsiVirtqueueSize.max);
    const cmdPerLun = this.number(dev, this.property(dev, types, "cmd_per_lun", d.cmd_per_lun), "cmd_per_lun", 0xffffffff)!;
    const ioeventfd = this.ioeventfd(dev, types);
    const { iothread, mapping } = this.iothreadsOf(dev, "virtio-scsi", numQueues.value, ioeventfd.value);
    return {
      kind: "virtio-scsi", id: dev.props.id ?? null, driver: dev.driver, transport,
      numQueues, virtqueueSize: size, cmdPerLun, iothread, iothreadVqMapping: mapping, ioeventfd, disks: [],
    };
  }

  nvme(dev: DeviceSpec): Nvme {
    const types = ["nvme"];
    const d = DEFAULTS.nvme;
    const legacy = this.number(dev, this.property(dev, types, "num_queues", d.num_queues), "num_queues", 0xffffffff)!;
    // hw/nvme/ctrl.c:8281-8286 nvme_check_params(): a non-zero num_queues (deprecated) sets max_ioqpairs = num_queues - 1.
    const pairs = legacy.value > 0
      ? { value: legacy.value - 1, from: legacy.from, why: `num_queues=${legacy.value} (deprecated): max_ioqpairs = num_queues - 1` }
      : this.number(dev, this.property(dev, types, "max_ioqpairs", d.max_ioqpairs), "max_ioqpairs", 0xffffffff)!;
    // LIMITS.nvmeMaxIoqpairs: between 1 and NVME_MAX_IOQPAIRS.
    this.within(dev, "max_ioqpairs", pairs.value, LIMITS.nvmeMaxIoqpairs.min, LIMITS.nvmeMaxIoqpairs.max);
    this.refuseAbsent(dev, "nvme");
    const mqes = this.number(dev, this.property(dev, types, "mqes", d.mqes), "mqes", LIMITS.nvmeMqes.max)!;
    // LIMITS.nvmeMqes: below 1 is refused (a queue needs two entries).
    this.within(dev, "mqes", mqes.value, LIMITS.nvmeMqes.min, LIMITS.nvmeMqes.max);
    const namespaces: NvmeNamespace[] = dev.props.drive ? [{ id: null, nsid: 1, backend: this.backendOf(dev.props.drive) }] : [];
    return {
      kind: "nvme", id: dev.props.id ?? null, driver: dev.driver, maxIoqpairs: pairs,
      queueEntries: { value: mqes.value + 1, from: mqes.from, why: `mqes=${mqes.value} is zero-based: ${mqes.value + 1} entries (${mqes.why})` },
      namespaces,
    };
  }

  /** On q35 every ide.N is a port of the machine's own ich9-ahci; an added ahci's buses are named after its id. */
  ideDisk(dev: DeviceSpec): IdeDisk {
    const channel = dev.props.bus ?? null;
    const ahci = isQ35(this.machineType) || (channel !== null && !/^ide\.\d+$/.test(channel));
    return { kind: "ide", id: dev.props.id ?? null, driver: dev.driver, bus: ahci ? "ahci" : "ide", channel, backend: this.backendOf(dev.props.drive) };
  }

  scsiDisk(dev: DeviceSpec): ScsiDisk {
    return { kind: "scsi-disk", id: dev.props.id ?? null, driver: dev.driver, backend: this.backendOf(dev.props.drive) };
  }

  namespace(dev: DeviceSpec): NvmeNamespace {
    const nsid = dev.props.nsid !== undefined ? parseInteger(dev.props.nsid) : null;
    return { id: dev.props.id ?? null, nsid, backend: this.backendOf(dev.props.drive) };
  }

  /**
   * One property's value as QEMU resolves it: the given value, else the last
   * -global naming one of the device's types, else a machine-type compat
   * rule, else the device's default.
   */
  private property(dev: DeviceSpec, types: readonly string[], name: string, fallback: PropertyDefault): Sourced<string> {
    const given = dev.props[name];
    if (given !== undefined) return { value: given, from: "given", why: `${dev.driver} ${name}=${given}` };
    const global = [...this.spec.globals].reverse().find((g) => g.property === name && types.includes(g.driver));
    if (global) return { value: global.value, from: "global", why: `-global ${global.driver}.${name}=${global.value}` };
    if (this.ruleVersion) {
      const rule = compatRulesFor(this.ruleVersion).find((r) => r.property === name && types.includes(r.driver));
      if (rule) {
        return this.ruleFromMachine
          ? { value: rule.value, from: "machine-compat", why: `machine type ${this.machineType}: ${rule.source}` }
          : { value: rule.value, from: "default", why: `QEMU ${this.ruleVersion.major}.${this.ruleVersion.minor}'s default (${rule.source})` };
      }
    }
    return { value: fallback.value, from: "default", why: fallback.source };
  }

  private number(dev: DeviceSpec, raw: Sourced<string> | null, name: string, max: number): Sourced<number> | null {
    if (raw === null) return null;
    const n = parseInteger(raw.value);
    if (n === null || n > max) throw this.refusal(dev, name, raw.value, `a whole number from 0 to ${max}`);
    return { value: n, from: raw.from, why: raw.why };
  }

  /** "auto" queues: the vCPUs (capped) on PCI, 1 on the other transports. */
  private autoQueues(transport: Transport, fixed: number, pciSource: string, deviceSource: string): Sourced<number> {
    if (transport !== "pci") return { value: 1, from: "derived", why: `num-queues auto on ${transport}: 1 (${deviceSource})` };
    const vcpus = vcpusOf(this.spec.smp, this.qemuVersion).value;
    return { value: optimalPciQueues(vcpus, fixed), from: "derived", why: `num-queues auto on PCI: the ${vcpus} vCPUs (${pciSource}, virtio_pci_optimal_num_queues())` };
  }

  private ioeventfd(dev: DeviceSpec, types: readonly string[]): Sourced<boolean> {
    const raw = this.property(dev, types, "ioeventfd", DEFAULTS["virtio-pci"].ioeventfd);
    if (!["on", "off", "true", "false", "yes", "no"].includes(raw.value)) throw this.refusal(dev, "ioeventfd", raw.value, "on or off");
    return { value: ["on", "true", "yes"].includes(raw.value), from: raw.from, why: raw.why };
  }

  /**
   * iothread= and iothread-vq-mapping, refused where QEMU refuses them:
   * both at once (REFUSALS.iothreadAndMapping), either with ioeventfd off
   * (REFUSALS.iothreadNeedsIoeventfd), an IOThread that does not exist, and
   * a mapping iothread_vq_mapping_validate() refuses.
   */
  private iothreadsOf(dev: DeviceSpec, family: "virtio-blk" | "virtio-scsi", numQueues: number, ioeventfd: boolean): { iothread: string | null; mapping: readonly VqMapping[] | null } {
    this.refuseAbsent(dev, family);
    const iothread = dev.props.iothread ?? null;
    const mapping = vqMappingOf(dev.props);
    if (iothread !== null && mapping !== null) {
      throw new InputError("ERR_QEMU_VALUE", `bad ${describe(dev)}: iothread and iothread-vq-mapping both set; allowed: one of them (QEMU: "${REFUSALS.iothreadAndMapping}")`);
    }
    for (const id of [iothread, ...(mapping ?? []).map((m) => m.iothread)]) {
      if (id !== null && !this.spec.iothreads.includes(id)) {
        throw new InputError("ERR_QEMU_VALUE", `bad ${describe(dev)} iothread ${id}; allowed: ${this.spec.iothreads.join(", ") || "no IOThread is defined (-object iothread,id=…)"}`);
      }
    }
    if ((iothread !== null || mapping !== null) && !ioeventfd) {
      throw new InputError("ERR_QEMU_VALUE", `bad ${describe(dev)}: an IOThread with ioeventfd=off; allowed: ioeventfd on, or no IOThread (QEMU: "${REFUSALS.iothreadNeedsIoeventfd}")`);
    }
    if (mapping !== null) {
      const wrong = vqMappingProblem(mapping, numQueues);
      if (wrong !== null) throw new InputError("ERR_QEMU_VALUE", `bad ${describe(dev)} iothread-vq-mapping: ${wrong}`);
    }
    return { iothread, mapping };
  }

  /** A property the QEMU version given does not have (qemu-rules.ts PROPERTIES_ABSENT): QEMU refuses the unknown property. */
  private refuseAbsent(dev: DeviceSpec, family: "virtio-blk" | "virtio-scsi" | "nvme"): void {
    const v = this.qemuVersion;
    if (v === null) return;
    for (const absent of PROPERTIES_ABSENT) {
      const given = Object.keys(dev.props).some((key) => key === absent.property || key.startsWith(`${absent.property}.`));
      if (absent.family === family && given && versionAtMost(v, absent.through)) {
        throw new InputError("ERR_QEMU_VALUE", `bad ${describe(dev)} ${absent.property}: QEMU ${v.major}.${v.minor} has no such property; allowed: the device without it (it came after ${absent.through.major}.${absent.through.minor}; ${absent.source})`);
      }
    }
  }

  /** The node chain from drive= down through each node's file child. */
  backendOf(drive: string | undefined): Backend | null {
    if (drive === undefined) return null;
    const drivers: string[] = [];
    const seen = new Set<string>();
    let node: string | null = drive;
    while (node !== null && !seen.has(node)) {
      seen.add(node);
      const spec = this.spec.nodes.find((n) => n.node === node);
      if (!spec) break;
      drivers.push(spec.driver);
      node = spec.child;
    }
    return { node: drive, drivers };
  }

  private within(dev: DeviceSpec, name: string, value: number, min: number, max: number): void {
    if (value < min || value > max) throw this.refusal(dev, name, value, `${min} to ${max}`);
  }

  private refusal(dev: DeviceSpec, name: string, value: number | string, allowed: string): InputError {
    return new InputError("ERR_QEMU_VALUE", `bad ${describe(dev)} ${name}=${value}; allowed: ${allowed} (QEMU refuses it)`);
  }
}

/** iothread-vq-mapping from dotted keys: `iothread-vq-mapping.N.iothread` and `…N.vqs.M`. */
function vqMappingOf(props: Readonly<Record<string, string>>): VqMapping[] | null {
  const entries = new Map<number, { iothread: string; vqs: number[] | null }>();
  for (const [key, value] of Object.entries(props)) {
    const m = /^iothread-vq-mapping\.(\d+)\.(iothread|vqs\.(\d+))$/.exec(key);
    if (!m) continue;
    const entry = entries.get(Number(m[1])) ?? { iothread: "", vqs: null };
    if (m[2] === "iothread") entry.iothread = value;
    else (entry.vqs ??= [])[Number(m[3])] = Number(value);
    entries.set(Number(m[1]), entry);
  }
  if (entries.size === 0) return null;
  return [...entries.entries()].sort((a, b) => a[0] - b[0]).map(([, e]) => ({ iothread: e.iothread, vqs: e.vqs }));
}

/**
 * What iothread_vq_mapping_validate() refuses (hw/virtio/iothread-vq-mapping.c:14-73),
 * in its words, or null: an IOThread named twice, vqs on some entries only,
 * a vq index not below num_queues, a vq given twice, a vq left out.
 */
function vqMappingProblem(mapping: readonly VqMapping[], numQueues: number): string | null {
  const names = new Set<string>();
  const assigned = new Set<number>();
  for (const entry of mapping) {
    if (names.has(entry.iothread)) return `duplicate IOThread name "${entry.iothread}" in iothread-vq-mapping; allowed: each IOThread once`;
    names.add(entry.iothread);
    if ((entry.vqs === null) !== (mapping[0]!.vqs === null)) return "either all items in iothread-vq-mapping must have vqs or none of them must have it; allowed: vqs on all entries or on none";
    for (const vq of entry.vqs ?? []) {
      if (!(vq < numQueues)) return `vq index ${vq} for IOThread "${entry.iothread}" must be less than num_queues ${numQueues}; allowed: 0 to ${numQueues - 1}`;
      if (assigned.has(vq)) return `cannot assign vq ${vq} to IOThread "${entry.iothread}" because it is already assigned; allowed: each vq once`;
      assigned.add(vq);
    }
  }
  if (mapping[0]!.vqs !== null) {
    for (let vq = 0; vq < numQueues; vq++) if (!assigned.has(vq)) return `missing vq ${vq} IOThread assignment; allowed: every vq from 0 to ${numQueues - 1} assigned`;
  }
  return null;
}

/** A SCSI disk goes on the controller its bus= names (`scsi0.0`), else the first SCSI bus. */
function attachScsiDisk(dev: DeviceSpec, controllers: (VirtioScsi | OtherScsiHba)[], ctx: Resolver, ignored: Ignored[]): void {
  const busId = dev.props.bus?.replace(/\.\d+$/, "");
  const index = busId === undefined ? 0 : controllers.findIndex((c) => c.id === busId);
  const controller = controllers[index];
  if (!controller) {
    ignored.push({ what: describe(dev), why: `no SCSI controller ${busId ?? ""} for it`.replace("  ", " ") });
    return;
  }
  (controller.disks as ScsiDisk[]).push(ctx.scsiDisk(dev));
}

/** An nvme-ns goes on the controller its bus= names, else the first NVMe controller. */
function attachNamespace(dev: DeviceSpec, nvmes: Nvme[], ctx: Resolver, ignored: Ignored[]): void {
  const busId = dev.props.bus;
  const controller = busId === undefined ? nvmes[0] : nvmes.find((c) => c.id === busId);
  if (!controller) {
    ignored.push({ what: describe(dev), why: `no NVMe controller ${busId ?? ""} for it` });
    return;
  }
  (controller.namespaces as NvmeNamespace[]).push(ctx.namespace(dev));
}
