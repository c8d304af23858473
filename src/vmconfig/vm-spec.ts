/**
 * A VM's configuration as QEMU receives it, before any default is applied:
 * the machine type, -smp, the IOThreads, the -global defaults, the devices
 * with the properties given, and the block nodes. A command line
 * (specFromCommandLine, here) and a libvirt domain (libvirt-xml.ts, which
 * writes what libvirt would pass QEMU) both become one, so the same
 * configuration gives the same model whichever way it came in.
 */
import { InputError } from "../errors.js";
import type { Ignored } from "./model.js";
import type { QemuCommandLine, QemuOption } from "./qemu-args.js";

export interface DeviceSpec {
  readonly driver: string;
  /** Properties as given (dotted keys for nested values), without `driver`. */
  readonly props: Readonly<Record<string, string>>;
  /** The JSON form's object, when the device was written as JSON (for list values such as iothread-vq-mapping). */
  readonly json: Readonly<Record<string, unknown>> | null;
}

export interface GlobalSpec {
  readonly driver: string;
  readonly property: string;
  readonly value: string;
}

/** A block node (-blockdev node-name, or -drive id) and the node it sits on. */
export interface BlockNodeSpec {
  readonly node: string;
  readonly driver: string;
  readonly child: string | null;
}

export interface VmSpec {
  readonly name: string | null;
  readonly emulator: string | null;
  readonly machineType: string | null;
  readonly smp: Readonly<Record<string, string>> | null;
  readonly iothreads: readonly string[];
  readonly globals: readonly GlobalSpec[];
  readonly devices: readonly DeviceSpec[];
  readonly nodes: readonly BlockNodeSpec[];
  readonly ignored: readonly Ignored[];
}

/** Options that never decide coroutine demand: named so they are not listed one by one as ignored. */
const QUIET = new Set(["m", "cpu", "accel", "enable-kvm", "uuid", "display", "vga", "nographic", "no-user-config", "nodefaults", "chardev", "mon", "rtc", "no-shutdown", "no-reboot", "boot", "sandbox", "msg", "overcommit", "S", "daemonize", "pidfile", "runas", "audiodev", "serial", "vnc", "spice", "netdev", "smbios", "kernel", "initrd", "append", "bios", "L", "k", "qmp", "monitor", "id", "readconfig", "no-hpet", "no-acpi", "incoming", "D", "d", "trace", "fw_cfg", "iscsi", "numa", "mem-prealloc", "mem-path", "device-tree", "global-compat"]);

/** The configuration a command line gives QEMU. */
export function specFromCommandLine(cmd: QemuCommandLine): VmSpec {
  const spec = {
    name: null as string | null,
    emulator: cmd.emulator as string | null,
    machineType: null as string | null,
    smp: null as Record<string, string> | null,
    iothreads: [] as string[],
    globals: [] as GlobalSpec[],
    devices: [] as DeviceSpec[],
    nodes: [] as BlockNodeSpec[],
    ignored: [] as Ignored[],
  };
  const drives: QemuOption[] = [];
  for (const opt of cmd.options) {
    switch (opt.name) {
      case "name":
        spec.name = opt.props.guest ?? null;
        break;
      case "machine":
      case "M":
        // Later -machine options merge into earlier ones, as QEMU's machine opts do.
        if (opt.props.type) spec.machineType = opt.props.type;
        break;
      case "smp":
        spec.smp = { ...opt.props };
        break;
      case "object":
        if (opt.props["qom-type"] === "iothread" && opt.props.id) spec.iothreads.push(opt.props.id);
        break;
      case "global":
        spec.globals.push(...globalsOf(opt));
        break;
      case "device": {
        const { driver, ...props } = opt.props;
        if (driver) spec.devices.push({ driver, props, json: opt.json });
        break;
      }
      case "blockdev":
        spec.nodes.push(blockdevNode(opt));
        break;
      case "drive":
      case "hda":
      case "hdb":
      case "hdc":
      case "hdd":
      case "cdrom":
        drives.push(opt);
        break;
      default:
        if (!QUIET.has(opt.name)) spec.ignored.push({ what: `-${opt.name}`, why: "not an option that decides coroutine demand" });
    }
  }
  addLegacyDrives(spec, drives);
  return spec;
}

/** `-global driver.prop=value` or `-global driver=d,property=p,value=v`. */
function globalsOf(opt: QemuOption): GlobalSpec[] {
  const p = opt.props;
  if (p.driver !== undefined && p.property !== undefined) return [{ driver: p.driver, property: p.property, value: p.value ?? "" }];
  return Object.entries(p).flatMap(([key, value]) => {
    const dot = key.indexOf(".");
    return dot > 0 ? [{ driver: key.slice(0, dot), property: key.slice(dot + 1), value }] : [];
  });
}

/** A -blockdev's node: its node-name, its driver, and the node its `file` names (by reference or nested). */
function blockdevNode(opt: QemuOption): BlockNodeSpec {
  const p = opt.props;
  return { node: p["node-name"] ?? "", driver: p.driver ?? "", child: p.file ?? p["file.node-name"] ?? null };
}

/** QEMU's -drive if= values (blockdev.c:77-87 if_name[]); any other is refused ("unsupported bus type", blockdev.c:899). */
const INTERFACES = new Set(["none", "ide", "scsi", "floppy", "pflash", "mtd", "sd", "virtio", "xen"]);
/** The shorthands' interface and index (qemu-options.hx: -hda..-hdd are if=ide index 0..3, -cdrom index 2). */
const SHORTHAND_INDEX: Readonly<Record<string, number>> = { hda: 0, hdb: 1, hdc: 2, hdd: 3, cdrom: 2 };

/**
 * -drive and its shorthands (-hda, -cdrom): a block node named by its id,
 * and, unless if=none, the device QEMU's machine creates for it. Without
 * if=, x86 machines take IDE (hw/i386/pc.c:1789 block_default_type); q35
 * puts those on its AHCI ports, one unit each (hw/i386/pc_q35.c:297, :347
 * units_per_default_bus = 1). Each drive takes the place drive_new() gives
 * it: index=, else bus=/unit=, else the first free unit (blockdev.c:905-930),
 * and the id it names a drive without id= (blockdev.c:945-958).
 */
function addLegacyDrives(spec: { machineType: string | null; devices: DeviceSpec[]; nodes: BlockNodeSpec[]; ignored: Ignored[] }, drives: readonly QemuOption[]): void {
  const q35 = isQ35(spec.machineType);
  const taken = new Set<string>();
  for (const opt of drives) {
    const p = opt.name === "drive" ? opt.props : { file: opt.raw, if: "ide", media: opt.name === "cdrom" ? "cdrom" : "disk", index: String(SHORTHAND_INDEX[opt.name]) };
    const iface = p.if ?? "ide";
    if (!INTERFACES.has(iface)) {
      throw new InputError("ERR_QEMU_VALUE", `bad -drive if=${iface}; allowed: ${[...INTERFACES].join(", ")} (QEMU: "unsupported bus type '${iface}'")`);
    }
    const media = p.media === "cdrom";
    const perBus = iface === "ide" ? (q35 ? 1 : 2) : iface === "scsi" ? 7 : 0;
    const { bus, unit } = drivePlace(iface, p, perBus, taken);
    const kind = iface === "ide" || iface === "scsi" ? (media ? "-cd" : "-hd") : "";
    const id = p.id ?? (perBus > 0 ? `${iface}${bus}${kind}${unit}` : `${iface}${kind}${unit}`);
    spec.nodes.push({ node: id, driver: p.format ?? "raw", child: null });
    if (iface === "none") continue;
    if (iface === "virtio") spec.devices.push({ driver: spec.machineType?.startsWith("s390") ? "virtio-blk-ccw" : "virtio-blk-pci", props: { drive: id }, json: null });
    else if (iface === "ide") spec.devices.push({ driver: media ? "ide-cd" : "ide-hd", props: { drive: id, bus: `ide.${bus}` }, json: null });
    else if (iface === "scsi") spec.devices.push({ driver: media ? "scsi-cd" : "scsi-hd", props: { drive: id }, json: null });
    else spec.ignored.push({ what: `-drive if=${iface} (${id})`, why: "not a disk whose requests run as coroutines in the model" });
  }
}

/** drive_new()'s bus and unit for a drive: index= (bus = index / per bus), else bus= and unit=, else the first free unit from bus=. */
function drivePlace(iface: string, p: Readonly<Record<string, string>>, perBus: number, taken: Set<string>): { bus: number; unit: number } {
  let bus = Number(p.bus ?? 0);
  let unit = p.unit === undefined ? -1 : Number(p.unit);
  if (p.index !== undefined) {
    const index = Number(p.index);
    bus = perBus > 0 ? Math.floor(index / perBus) : 0;
    unit = perBus > 0 ? index % perBus : index;
  }
  if (unit === -1) {
    unit = 0;
    while (taken.has(`${iface}:${bus}:${unit}`)) {
      unit++;
      if (perBus > 0 && unit >= perBus) {
        unit -= perBus;
        bus++;
      }
    }
  }
  taken.add(`${iface}:${bus}:${unit}`);
  return { bus, unit };
}

export function isQ35(machineType: string | null): boolean {
  return machineType !== null && (machineType === "q35" || machineType.startsWith("pc-q35"));
}
