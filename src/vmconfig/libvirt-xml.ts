/**
 * A libvirt domain XML (`virsh dumpxml`) to the configuration libvirt would
 * give QEMU for it (a VmSpec), so that build-model.ts turns the XML and the
 * command line libvirt writes for it into the same model. The translation
 * follows libvirt's own (src/qemu/qemu_command.c): `<vcpu>` is -smp,
 * `<iothreads>` are IOThread objects named iothread1…N, a virtio `<disk>` is a
 * virtio-blk device whose `<driver queues queue_size iothread ioeventfd>` are
 * its num-queues, queue-size, iothread and ioeventfd, a SCSI disk sits on the
 * controller `scsiN`, and each disk's blockdev chain is named libvirt-K-format
 * over libvirt-K-storage, counted down from the last disk. The arguments of
 * `<qemu:commandline>` (what libvirt has no element for, NVMe on libvirt
 * before 10.x among them) come last, as libvirt appends them.
 */
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { InputError } from "../errors.js";
import type { Ignored } from "./model.js";
import { parseQemuOptions } from "./qemu-args.js";
import { isQ35, specFromCommandLine, type BlockNodeSpec, type DeviceSpec, type GlobalSpec, type VmSpec } from "./vm-spec.js";

type Node = Record<string, unknown>;

const LISTS = new Set(["disk", "controller", "hostdev", "iothread", "queue", "qemu:arg"]);

/** libvirt's SCSI controller models and the QEMU devices they become (qemuBuildControllerSCSIDevStr). */
const SCSI_MODELS: Readonly<Record<string, string>> = {
  "virtio-scsi": "virtio-scsi-pci",
  "virtio-transitional": "virtio-scsi-pci-transitional",
  "virtio-non-transitional": "virtio-scsi-pci-non-transitional",
  lsilogic: "lsi",
  lsisas1068: "mptsas1068",
  megasas: "megasas",
  vmpvscsi: "pvscsi",
  ibmvscsi: "spapr-vscsi",
};

/** The storage node's driver for each `<disk type=…>`. */
const STORAGE_DRIVER: Readonly<Record<string, string>> = { file: "file", block: "host_device", dir: "vvfat", nvme: "nvme", vhostuser: "vhost-user-blk" };

export function specFromLibvirtXml(text: string): VmSpec {
  const domain = parseDomain(text);
  const devices = obj(domain.devices);
  const os = obj(domain.os);
  const machineType = attr(obj(os.type), "machine");
  const spec = {
    name: textOf(domain.name),
    emulator: textOf(devices.emulator),
    machineType,
    smp: vcpusOf(domain.vcpu),
    iothreads: iothreadIds(domain),
    globals: [] as GlobalSpec[],
    devices: [] as DeviceSpec[],
    nodes: [] as BlockNodeSpec[],
    ignored: [] as Ignored[],
  };
  const controllers = list(devices.controller);
  for (const controller of controllers) addController(spec, controller);
  const lsilogic = new Set(controllers.filter((c) => attr(c, "type") === "scsi" && attr(c, "model") === "lsilogic").map((c) => attr(c, "index") ?? "0"));
  const disks = list(devices.disk);
  disks.forEach((disk, i) => addDisk(spec, disk, disks.length - i, machineType ?? "", lsilogic));
  for (const hostdev of list(devices.hostdev)) {
    spec.ignored.push({ what: `<hostdev type='${attr(hostdev, "type") ?? ""}'>`, why: "device passthrough: the host's device serves its requests, not QEMU's block layer" });
  }
  addQemuCommandline(spec, domain);
  return spec;
}

/**
 * `<qemu:commandline><qemu:arg value='…'/>…`: arguments libvirt passes to
 * QEMU as written, after its own; read as the command line they are.
 */
function addQemuCommandline(spec: { iothreads: string[]; globals: GlobalSpec[]; devices: DeviceSpec[]; nodes: BlockNodeSpec[]; ignored: Ignored[] }, domain: Node): void {
  const args = list(obj(domain["qemu:commandline"])["qemu:arg"]).map((arg) => attr(arg, "value") ?? "");
  if (args.length === 0) return;
  const extra = specFromCommandLine({ emulator: "", options: parseQemuOptions(args) });
  spec.iothreads.push(...extra.iothreads);
  spec.globals.push(...extra.globals);
  spec.devices.push(...extra.devices);
  spec.nodes.push(...extra.nodes);
  spec.ignored.push(...extra.ignored);
}

function parseDomain(text: string): Node {
  if (text.trim() === "") throw new InputError("ERR_NOT_DOMAIN", "not a libvirt domain XML: the text is empty; allowed: the XML of virsh dumpxml");
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    throw new InputError("ERR_NOT_DOMAIN", `not a libvirt domain XML: ${valid.err.msg.replace(/\.$/, "")} at line ${valid.err.line}; allowed: the XML of virsh dumpxml`);
  }
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "@", isArray: (name) => LISTS.has(name) }).parse(text) as Node;
  const roots = Object.keys(doc).filter((k) => !k.startsWith("?"));
  if (Array.isArray(doc.domain)) {
    throw new InputError("ERR_NOT_DOMAIN", `not a libvirt domain XML: it holds ${doc.domain.length} <domain> elements at its root; allowed: one <domain>`);
  }
  if (roots.length !== 1 || roots[0] !== "domain" || typeof doc.domain !== "object") {
    throw new InputError("ERR_NOT_DOMAIN", `not a libvirt domain XML: its root is ${roots.map((r) => `<${r}>`).join(", ") || "empty"}; allowed: <domain>`);
  }
  return doc.domain as Node;
}

/** `<vcpu current='N'>M</vcpu>`: libvirt's -smp boots `current` (else all M) of them. */
function vcpusOf(vcpu: unknown): Record<string, string> | null {
  if (vcpu === undefined) return null;
  const count = textOf(vcpu);
  const current = attr(obj(vcpu), "current");
  const cpus = current ?? count;
  return cpus === null ? null : { cpus };
}

/** `<iothreadids><iothread id='N'/>` name iothreadN; else `<iothreads>N</iothreads>` is iothread1…N. */
function iothreadIds(domain: Node): string[] {
  const ids = list(obj(domain.iothreadids).iothread).map((t) => attr(t, "id")).filter((id): id is string => id !== null);
  if (ids.length > 0) return ids.map((id) => `iothread${id}`);
  const count = Number(textOf(domain.iothreads) ?? "0");
  return Array.from({ length: count }, (_, i) => `iothread${i + 1}`);
}

function addController(spec: { devices: DeviceSpec[]; ignored: Ignored[] }, controller: Node): void {
  const type = attr(controller, "type");
  const index = attr(controller, "index") ?? "0";
  if (type === "scsi") {
    const model = attr(controller, "model");
    const driver = model ? SCSI_MODELS[model] : undefined;
    if (!driver) {
      spec.ignored.push({ what: `<controller type='scsi' index='${index}'${model ? ` model='${model}'` : ""}>`, why: model ? "a SCSI model coropool does not know" : "no model: libvirt picks one by architecture; give model='virtio-scsi'" });
      return;
    }
    const props: Record<string, string> = { id: alias(controller) ?? `scsi${index}` };
    if (driver.startsWith("virtio")) Object.assign(props, driverProps(obj(controller.driver), { queues: "num_queues", cmd_per_lun: "cmd_per_lun", ioeventfd: "ioeventfd" }));
    spec.devices.push({ driver, props, json: null });
  } else if (type === "nvme") {
    spec.devices.push({ driver: "nvme", props: { id: alias(controller) ?? `nvme${index}` }, json: null });
  }
}

/**
 * `<driver>`'s attributes as QEMU properties, named by `names`; iothread='N'
 * is iothreadN, and `<iothreads><iothread id><queue id/>` is iothread-vq-mapping.
 */
function driverProps(driver: Node, names: Readonly<Record<string, string>>): Record<string, string> {
  const props: Record<string, string> = {};
  for (const [xml, qemu] of Object.entries(names)) {
    const value = attr(driver, xml);
    if (value !== null) props[qemu] = value;
  }
  const iothread = attr(driver, "iothread");
  if (iothread !== null) props.iothread = `iothread${iothread}`;
  list(obj(driver.iothreads).iothread).forEach((t, i) => {
    props[`iothread-vq-mapping.${i}.iothread`] = `iothread${attr(t, "id") ?? ""}`;
    list(t.queue).forEach((q, j) => (props[`iothread-vq-mapping.${i}.vqs.${j}`] = attr(q, "id") ?? ""));
  });
  return props;
}

/** A `<disk>`: its block nodes (libvirt-K-format over libvirt-K-storage) and its device by target bus. */
function addDisk(spec: { devices: DeviceSpec[]; nodes: BlockNodeSpec[]; ignored: Ignored[] }, disk: Node, k: number, machineType: string, lsilogic: ReadonlySet<string>): void {
  const target = obj(disk.target);
  const bus = attr(target, "bus") ?? "";
  const dev = attr(target, "dev") ?? "";
  const kind = attr(disk, "device") ?? "disk";
  const driver = obj(disk.driver);
  const address = obj(disk.address);
  const hasSource = disk.source !== undefined;
  const drive = hasSource ? `libvirt-${k}-format` : undefined;
  if (hasSource) {
    const storage = `libvirt-${k}-storage`;
    spec.nodes.push({ node: storage, driver: STORAGE_DRIVER[attr(disk, "type") ?? "file"] ?? attr(obj(disk.source), "protocol") ?? "file", child: null });
    spec.nodes.push({ node: drive!, driver: attr(driver, "type") ?? "raw", child: storage });
  }
  const unit = attr(address, "unit") ?? String(letterIndex(dev));
  const controller = attr(address, "controller") ?? "0";
  const withDrive = (props: Record<string, string>): Record<string, string> => (drive ? { ...props, drive } : props);
  if (bus === "virtio") {
    const blk = addressDriver(attr(address, "type"), machineType);
    const props = { ...driverProps(driver, { queues: "num-queues", queue_size: "queue-size", ioeventfd: "ioeventfd" }), id: alias(disk) ?? `virtio-disk${letterIndex(dev)}` };
    spec.devices.push({ driver: blk, props: withDrive(props), json: null });
  } else if (bus === "scsi") {
    const scsiDriver = kind === "cdrom" ? "scsi-cd" : kind === "lun" ? "scsi-block" : "scsi-hd";
    // libvirt names a disk on an lsilogic controller controller-bus-unit, on the others controller-bus-target-unit.
    const place = lsilogic.has(controller) ? [attr(address, "bus") ?? "0", unit] : [attr(address, "bus") ?? "0", attr(address, "target") ?? "0", unit];
    const id = alias(disk) ?? `scsi${controller}-${place.join("-")}`;
    spec.devices.push({ driver: scsiDriver, props: withDrive({ bus: `scsi${controller}.0`, id }), json: null });
  } else if (bus === "sata" || bus === "ide") {
    // libvirt: an IDE disk on ide.<bus> (unit given apart); a SATA disk on q35's own AHCI port ide.<unit>, else on sata<controller>.<unit>.
    const id = alias(disk) ?? `${bus}${controller}-${attr(address, "bus") ?? "0"}-${unit}`;
    const busName = bus === "ide" ? `ide.${attr(address, "bus") ?? "0"}` : isQ35(machineType) ? `ide.${unit}` : `sata${controller}.${unit}`;
    spec.devices.push({ driver: kind === "cdrom" ? "ide-cd" : "ide-hd", props: withDrive({ bus: busName, id }), json: null });
  } else if (bus === "nvme") {
    spec.devices.push({ driver: "nvme-ns", props: withDrive({ bus: `nvme${controller}`, id: alias(disk) ?? `nvme${controller}-0-${unit}` }), json: null });
  } else {
    spec.ignored.push({ what: `<disk> ${dev} bus='${bus}'`, why: "a disk bus whose requests the model does not count (usb, sd, fdc, xen)" });
  }
}

/** virtio on PCI unless the disk's address says ccw or virtio-mmio (or the machine is s390's). */
function addressDriver(addressType: string | null, machineType: string): string {
  if (addressType === "ccw" || (addressType === null && machineType.startsWith("s390"))) return "virtio-blk-ccw";
  if (addressType === "virtio-mmio") return "virtio-blk-device";
  return "virtio-blk-pci";
}

/** vda → 0, vdb → 1, …, vdaa → 26: libvirt's disk index from the target name. */
function letterIndex(dev: string): number {
  const letters = /[a-z]+$/.exec(dev.replace(/^(vd|sd|hd|xvd|nvme\d+n)/, ""))?.[0] ?? "a";
  return [...letters].reduce((n, c) => n * 26 + (c.charCodeAt(0) - 96), 0) - 1;
}

function alias(node: Node): string | null {
  return attr(obj(node.alias), "name");
}

function obj(value: unknown): Node {
  return value !== null && typeof value === "object" ? (value as Node) : {};
}

function list(value: unknown): Node[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(obj);
}

function attr(node: Node, name: string): string | null {
  const v = node[`@${name}`];
  return v === undefined ? null : String(v);
}

function textOf(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === "object") {
    const t = (value as Node)["#text"];
    return t === undefined ? null : String(t);
  }
  return String(value);
}
