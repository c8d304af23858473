/**
 * src/vmconfig/: QEMU command lines and libvirt domain XMLs into the model of
 * what decides coroutine demand. Each fixture's exact model; a command line
 * and its libvirt XML giving the same model (by hand, and through libvirt's
 * own `virsh domxml-to-native` where libvirt is installed); each QEMU default
 * and compat rule; each refusal's one line.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { modelFromCommandLine, modelFromLibvirtXml, type StorageDevice, type VmModel } from "../src/vmconfig/index.js";
import { parseKeyValueList, parseQemuCmdlineNul } from "../src/vmconfig/qemu-args.js";
import { refusal } from "./vmconfig-refusal.js";

const FIXTURES = resolve(import.meta.dirname, "fixtures/vmconfig");
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), "utf8");

/** The values of a device that decide demand, without the `why` texts. */
function demand(device: StorageDevice): Record<string, unknown> {
  return JSON.parse(JSON.stringify(device, (key, value) => (key === "why" ? undefined : value)));
}

/** The model without what only the command line lists (each -device it ignores). */
function comparable(model: VmModel): Omit<VmModel, "ignored"> {
  const { ignored: _ignored, ...rest } = model;
  return rest;
}

const virtioPciDefaultIoeventfd = { value: true, from: "default" };

describe("QEMU option syntax", () => {
  it("splits key=value lists on single commas, keeps ,, as a comma, names the implied first key", () => {
    expect(parseKeyValueList("pc-q35-7.2,usb=off", "type")).toEqual({ type: "pc-q35-7.2", usb: "off" });
    expect(parseKeyValueList("4", "cpus")).toEqual({ cpus: "4" });
    expect(parseKeyValueList("file=/srv/a,,b.img,if=virtio,readonly", null)).toEqual({ file: "/srv/a,b.img", if: "virtio", readonly: "on" });
  });

  it("reads /proc/PID/cmdline's NUL-separated arguments, JSON values included", () => {
    const cmd = parseQemuCmdlineNul('qemu-system-x86_64\0-device\0{"driver":"virtio-blk-pci","num-queues":2,"iothread-vq-mapping":[{"iothread":"t0"}]}\0-nographic\0');
    expect(cmd.options.map((o) => o.name)).toEqual(["device", "nographic"]);
    expect(cmd.options[0]!.props).toEqual({ driver: "virtio-blk-pci", "num-queues": "2", "iothread-vq-mapping.0.iothread": "t0" });
  });
});

describe("fixtures parse into their exact models", () => {
  it("libvirt's q35 command line (log form: environment, backslash lines, JSON devices, -blockdev chains)", () => {
    const model = modelFromCommandLine(fixture("libvirt-q35.args"));
    expect(model.name).toBe("db01");
    expect(model.emulator).toBe("/usr/bin/qemu-system-x86_64");
    expect(model.machine.type.value).toBe("pc-q35-7.2");
    expect(model.machine.version).toEqual({ major: 7, minor: 2 });
    expect(model.vcpus).toMatchObject({ value: 8, from: "given" });
    expect(model.iothreads).toEqual([{ id: "iothread1" }, { id: "iothread2" }]);
    expect(model.devices.map(demand)).toEqual([
      {
        kind: "virtio-scsi", id: "scsi0", driver: "virtio-scsi-pci", transport: "pci",
        numQueues: { value: 4, from: "given" }, virtqueueSize: { value: 256, from: "default" }, cmdPerLun: { value: 64, from: "given" },
        iothread: "iothread2", iothreadVqMapping: null, ioeventfd: virtioPciDefaultIoeventfd,
        disks: [{ kind: "scsi-disk", id: "scsi0-0-0-1", driver: "scsi-hd", backend: { node: "libvirt-2-format", drivers: ["raw", "host_device"] } }],
      },
      {
        kind: "virtio-blk", id: "virtio-disk0", driver: "virtio-blk-pci", transport: "pci",
        backend: { node: "libvirt-3-format", drivers: ["qcow2", "file"] },
        numQueues: { value: 4, from: "given" }, queueSize: { value: 512, from: "given" },
        iothread: "iothread1", iothreadVqMapping: null, ioeventfd: virtioPciDefaultIoeventfd,
      },
      { kind: "ide", id: "sata0-0-0", driver: "ide-cd", bus: "ahci", channel: "ide.0", backend: { node: "libvirt-1-format", drivers: ["raw", "file"] } },
    ]);
    expect(model.ignored).toContainEqual({ what: "-device vfio-pci (hostdev0)", why: "device passthrough: the host's device serves its requests, not QEMU's block layer" });
    expect(model.ignored.filter((i) => i.what.startsWith("-device pcie-root-port"))).toHaveLength(6);
  });

  it("Proxmox's qm showcmd line (kvm, quoted options, -drive if=none, NVMe, +pve machine type)", () => {
    const model = modelFromCommandLine(fixture("proxmox.args"));
    expect(model.name).toBe("web04");
    expect(model.machine.version).toEqual({ major: 8, minor: 1 });
    expect(model.vcpus).toMatchObject({ value: 6, from: "given" });
    expect(model.iothreads.map((t) => t.id)).toEqual(["iothread-virtio0", "iothread-virtio1", "iothread-virtioscsi0"]);
    const byId = new Map(model.devices.map((d) => [d.id, demand(d)]));
    expect([...byId.keys()]).toEqual(["ide2", "virtio0", "virtio1", "virtioscsi0", "nvme0"]);
    expect(byId.get("virtio0")).toMatchObject({ numQueues: { value: 6, from: "derived" }, queueSize: { value: 256, from: "default" }, iothread: "iothread-virtio0", backend: { node: "drive-virtio0", drivers: ["raw"] } });
    expect(byId.get("virtio1")).toMatchObject({ numQueues: { value: 2, from: "given" }, queueSize: { value: 1024, from: "given" }, iothread: "iothread-virtio1" });
    expect(byId.get("virtioscsi0")).toMatchObject({
      numQueues: { value: 6, from: "derived" }, virtqueueSize: { value: 256, from: "default" }, cmdPerLun: { value: 128, from: "default" },
      disks: [{ id: "scsi0", driver: "scsi-hd", backend: { node: "drive-scsi0", drivers: ["raw"] } }],
    });
    expect(byId.get("nvme0")).toEqual({
      kind: "nvme", id: "nvme0", driver: "nvme", maxIoqpairs: { value: 8, from: "given" }, queueEntries: { value: 2048, from: "default" },
      namespaces: [{ id: "nvme0n1", nsid: 1, backend: { node: "drive-nvme0", drivers: ["raw"] } }],
    });
    expect(byId.get("ide2")).toMatchObject({ kind: "ide", bus: "ahci" });
  });

  it("an old machine type: compat properties, a -global over them, -drive if=virtio and -hda", () => {
    const model = modelFromCommandLine(fixture("old-machine.args"));
    expect(model.vcpus).toMatchObject({ value: 8, from: "derived" });
    expect(model.devices.map(demand)).toEqual([
      {
        kind: "virtio-blk", id: "vdb", driver: "virtio-blk-pci", transport: "pci", backend: { node: "b", drivers: ["raw"] },
        numQueues: { value: 1, from: "machine-compat" }, queueSize: { value: 64, from: "global" },
        iothread: null, iothreadVqMapping: null, ioeventfd: virtioPciDefaultIoeventfd,
      },
      {
        kind: "virtio-scsi", id: "scsi0", driver: "virtio-scsi-pci", transport: "pci",
        numQueues: { value: 1, from: "machine-compat" }, virtqueueSize: { value: 128, from: "machine-compat" }, cmdPerLun: { value: 128, from: "default" },
        iothread: null, iothreadVqMapping: null, ioeventfd: virtioPciDefaultIoeventfd, disks: [],
      },
      {
        kind: "virtio-blk", id: null, driver: "virtio-blk-pci", transport: "pci", backend: { node: "virtio0", drivers: ["raw"] },
        numQueues: { value: 1, from: "machine-compat" }, queueSize: { value: 64, from: "global" },
        iothread: null, iothreadVqMapping: null, ioeventfd: virtioPciDefaultIoeventfd,
      },
      { kind: "ide", id: null, driver: "ide-hd", bus: "ide", channel: "ide.0", backend: { node: "ide0-hd0", drivers: ["raw"] } },
    ]);
    expect(model.devices[0]).toMatchObject({ numQueues: { why: "machine type pc-i440fx-4.2: hw/core/machine.c:148 hw_compat_5_1 (7.2: 91)" }, queueSize: { why: "-global virtio-blk-device.queue-size=64" } });
  });

  it("a domain XML with <iothreadids>, an iothread-vq-mapping, NVMe, a SCSI controller without a model and a floppy", () => {
    const model = modelFromLibvirtXml(fixture("nvme-mapping.xml"));
    expect(model.vcpus).toMatchObject({ value: 4, from: "given" });
    expect(model.iothreads).toEqual([{ id: "iothread1" }, { id: "iothread3" }]);
    expect(model.devices.map(demand)).toEqual([
      {
        kind: "nvme", id: "nvme0", driver: "nvme", maxIoqpairs: { value: 64, from: "default" }, queueEntries: { value: 2048, from: "default" },
        namespaces: [{ id: "nvme0-0-0", nsid: null, backend: { node: "libvirt-2-format", drivers: ["qcow2", "file"] } }],
      },
      {
        kind: "virtio-blk", id: "virtio-disk0", driver: "virtio-blk-pci", transport: "pci", backend: { node: "libvirt-3-format", drivers: ["raw", "file"] },
        numQueues: { value: 4, from: "derived" }, queueSize: { value: 256, from: "default" }, iothread: null,
        iothreadVqMapping: [{ iothread: "iothread1", vqs: [0, 2] }, { iothread: "iothread3", vqs: [1, 3] }], ioeventfd: virtioPciDefaultIoeventfd,
      },
    ]);
    expect(model.ignored).toEqual([
      { what: "<controller type='scsi' index='1'>", why: "no model: libvirt picks one by architecture; give model='virtio-scsi'" },
      { what: "<disk> fda bus='fdc'", why: "a disk bus whose requests the model does not count (usb, sd, fdc, xen)" },
    ]);
  });

  it("db01.xml gives the model of the command line libvirt writes for it (libvirt-q35.args), the passthrough listed", () => {
    const fromXml = modelFromLibvirtXml(fixture("db01.xml"));
    expect(comparable(fromXml)).toEqual(comparable(modelFromCommandLine(fixture("libvirt-q35.args"))));
    expect(fromXml.ignored).toEqual([{ what: "<hostdev type='pci'>", why: "device passthrough: the host's device serves its requests, not QEMU's block layer" }]);
  });
});

/** One line per device: kind, id, queues × size (or NVMe pairs × entries), the thread that runs it, its disks. */
function shape(model: VmModel): string[] {
  return model.devices.map((d) => {
    if (d.kind === "virtio-blk") return `virtio-blk ${d.id} ${d.numQueues.value}x${d.queueSize.value} ${d.iothread ?? (d.ioeventfd.value ? "main-loop" : "vcpu")} ${d.backend?.drivers.join("/")}`;
    if (d.kind === "virtio-scsi") return `virtio-scsi ${d.id} ${d.numQueues.value}x${d.virtqueueSize.value} lun${d.cmdPerLun.value} ${d.iothread ?? "main-loop"} [${d.disks.map((k) => k.id).join(" ")}]`;
    if (d.kind === "scsi-hba") return `scsi-hba ${d.id} ${d.driver} [${d.disks.map((k) => k.id).join(" ")}]`;
    if (d.kind === "nvme") return `nvme ${d.id} ${d.maxIoqpairs.value}x${d.queueEntries.value} ns${d.namespaces.length}`;
    return `${d.bus} ${d.id} ${d.driver} ${d.channel}`;
  });
}

describe("real-world-shaped fixtures: exact counts", () => {
  const app01 = [
    "virtio-scsi scsi0 4x256 lun32 iothread1 [scsi0-0-0-0 scsi0-0-0-1 scsi0-0-0-2 scsi0-0-0-3]",
    "virtio-scsi scsi1 12x256 lun128 iothread2 [scsi1-0-0-0 scsi1-0-0-1 scsi1-0-0-2 scsi1-0-0-3]",
    "scsi-hba scsi2 lsi [scsi2-0-0]",
    "virtio-blk virtio-disk0 4x1024 iothread1 qcow2/file",
    "virtio-blk virtio-disk1 12x512 iothread2 raw/host_device",
    "virtio-blk virtio-disk2 2x512 main-loop raw/file",
    "virtio-blk virtio-disk3 12x128 iothread3 raw/file",
    "virtio-blk virtio-disk4 12x512 vcpu raw/file",
    "virtio-blk virtio-disk5 8x256 iothread4 qcow2/file",
    "virtio-blk virtio-disk6 12x512 main-loop raw/file",
    "virtio-blk virtio-disk7 12x512 main-loop raw/host_device",
    "ahci sata0-0-0 ide-cd ide.0",
    "nvme nvme0 16x2048 ns1",
  ];

  it("app01.xml: <iothreadids>, <driver queues queue_size iothread ioeventfd>, two virtio-scsi controllers with <driver iothread queues>, lsilogic, NVMe and a -global in <qemu:commandline>", () => {
    const model = modelFromLibvirtXml(fixture("app01.xml"));
    expect(model).toMatchObject({ name: "app01", machine: { version: { major: 7, minor: 2 } }, vcpus: { value: 12, from: "given" } });
    expect(model.iothreads.map((t) => t.id)).toEqual(["iothread1", "iothread2", "iothread3", "iothread4"]);
    expect(shape(model)).toEqual(app01);
    // queue-size 512 where the disk gives none: the -global of <qemu:commandline>.
    expect(model.devices[4]).toMatchObject({ queueSize: { value: 512, from: "global", why: "-global virtio-blk-device.queue-size=512" } });
    expect(model.ignored).toEqual([]);
  });

  it("app01.args, the line libvirt 9.0 wrote for app01.xml (48 -device in JSON, -blockdev chains, -global last): the same devices", () => {
    const model = modelFromCommandLine(fixture("app01.args"));
    expect(fixture("app01.args").match(/ -device /g)).toHaveLength(48);
    expect(shape(model)).toEqual(app01);
    expect(comparable(model)).toEqual(comparable(modelFromLibvirtXml(fixture("app01.xml"))));
    // 48 less the 23 storage devices (3 SCSI controllers, 8 virtio-blk, 9 scsi-hd, 1 ide-cd, nvme, nvme-ns): PCIe ports, USB, video, serial, balloon, rng.
    expect(model.ignored.filter((i) => i.what.startsWith("-device "))).toHaveLength(25);
  });

  it("proxmox-ci.args (qm showcmd, 30 -device, a per-disk IOThread each, virtio-scsi-single, AHCI, pflash, -global ICH9-LPC)", () => {
    const model = modelFromCommandLine(fixture("proxmox-ci.args"));
    expect(model).toMatchObject({ name: "ci-runner", emulator: "/usr/bin/kvm", machine: { version: { major: 9, minor: 0 } }, vcpus: { value: 8, from: "given" } });
    expect(model.iothreads).toHaveLength(10);
    expect(shape(model)).toEqual([
      // bus=ide.1 on q35 is port 1 of the machine's own ich9-ahci.
      "ahci ide2 ide-cd ide.1",
      "ahci sata0 ide-hd ahci0.0",
      "ahci sata1 ide-hd ahci0.1",
      "virtio-blk virtio0 8x256 iothread-virtio0 raw",
      "virtio-blk virtio1 4x512 iothread-virtio1 raw",
      "virtio-blk virtio2 8x256 iothread-virtio2 qcow2",
      "virtio-blk virtio3 8x256 iothread-virtio3 raw",
      "virtio-blk virtio4 8x1024 iothread-virtio4 raw",
      "virtio-blk virtio5 8x256 iothread-virtio5 qcow2",
      "virtio-scsi virtioscsi0 8x256 lun128 iothread-virtioscsi0 [scsi0]",
      "virtio-scsi virtioscsi1 8x256 lun128 iothread-virtioscsi1 [scsi1]",
      "virtio-scsi virtioscsi2 8x256 lun128 iothread-virtioscsi2 [scsi2]",
      "virtio-scsi virtioscsi3 2x256 lun128 iothread-virtioscsi3 [scsi3]",
    ]);
    expect(model.ignored.map((i) => i.what)).toEqual([
      "-tpmdev",
      "-drive if=pflash (pflash0)",
      "-drive if=pflash (drive-efidisk0)",
      "-device vmgenid", "-device usb-tablet (tablet)", "-device tpm-tis", "-device VGA (vga)", "-device virtio-serial (qga0)", "-device virtserialport",
      "-device virtio-rng-pci", "-device virtio-balloon-pci (balloon0)", "-device ahci (ahci0)",
      "-device virtio-net-pci (net0)", "-device virtio-net-pci (net1)", "-device virtio-net-pci (net2)", "-device virtio-net-pci (net3)",
    ]);
  });
});

describe("QEMU's defaults and compat rules", () => {
  const blk = (args: string[], options?: { qemuVersion: { major: number; minor: number } }) =>
    modelFromCommandLine(["qemu-system-x86_64", ...args, "-device", "virtio-blk-pci,id=d0"], options).devices[0]!;

  it("num-queues follows the vCPUs only on PCI; ccw and mmio get 1", () => {
    expect(blk(["-smp", "12"])).toMatchObject({ numQueues: { value: 12, from: "derived" }, queueSize: { value: 256, from: "default" } });
    expect(modelFromCommandLine(["qemu-system-s390x", "-smp", "12", "-device", "virtio-blk-ccw"]).devices[0]).toMatchObject({ transport: "ccw", numQueues: { value: 1, from: "derived" } });
    expect(modelFromCommandLine(["qemu-system-aarch64", "-smp", "12", "-device", "virtio-blk-device"]).devices[0]).toMatchObject({ transport: "mmio", numQueues: { value: 1 } });
  });

  it("auto queues are capped at VIRTIO_QUEUE_MAX less the fixed queues (1024 for blk, 1022 for scsi)", () => {
    expect(blk(["-smp", "2000"])).toMatchObject({ numQueues: { value: 1024 } });
    expect(modelFromCommandLine(["qemu-system-x86_64", "-smp", "2000", "-device", "virtio-scsi-pci"]).devices[0]).toMatchObject({ numQueues: { value: 1022 } });
  });

  it("machine types <= 5.1 force num-queues=1, <= 4.2 also queue-size=128; 5.2 has neither", () => {
    expect(blk(["-smp", "4", "-machine", "pc-q35-5.2"])).toMatchObject({ numQueues: { value: 4, from: "derived" }, queueSize: { value: 256, from: "default" } });
    expect(blk(["-smp", "4", "-machine", "pc-q35-5.1"])).toMatchObject({ numQueues: { value: 1, from: "machine-compat" }, queueSize: { value: 256, from: "default" } });
    expect(blk(["-smp", "4", "-M", "pc-i440fx-4.2"])).toMatchObject({ numQueues: { value: 1, from: "machine-compat" }, queueSize: { value: 128, from: "machine-compat" } });
    expect(blk(["-smp", "4", "-machine", "q35"])).toMatchObject({ numQueues: { value: 4 } });
  });

  it("an old QEMU binary has its own old defaults even on an unversioned machine type", () => {
    expect(blk(["-smp", "4"], { qemuVersion: { major: 5, minor: 1 } })).toMatchObject({
      numQueues: { value: 1, from: "default", why: "QEMU 5.1's default (hw/core/machine.c:148 hw_compat_5_1 (7.2: 91))" },
    });
  });

  it("the value given beats -global, which beats the machine type's compat", () => {
    const given = modelFromCommandLine(["qemu-system-x86_64", "-M", "pc-q35-4.2", "-global", "virtio-blk-device.num-queues=2", "-device", "virtio-blk-pci,num-queues=3"]).devices[0];
    expect(given).toMatchObject({ numQueues: { value: 3, from: "given" }, queueSize: { value: 128, from: "machine-compat" } });
    expect(blk(["-M", "pc-q35-4.2", "-global", "driver=virtio-blk-device,property=num-queues,value=2"])).toMatchObject({ numQueues: { value: 2, from: "global" } });
  });

  it("NVMe: max_ioqpairs 64 and 2048-entry queues by default; the deprecated num_queues sets max_ioqpairs = num_queues - 1", () => {
    const nvme = (props: string) => modelFromCommandLine(["qemu-system-x86_64", "-device", `nvme,serial=x${props}`]).devices[0];
    expect(nvme("")).toMatchObject({ maxIoqpairs: { value: 64, from: "default" }, queueEntries: { value: 2048, from: "default" } });
    expect(nvme(",num_queues=5,mqes=127")).toMatchObject({ maxIoqpairs: { value: 4, from: "given" }, queueEntries: { value: 128, from: "given" } });
  });

  it("-drive and its shorthands take the bus, unit and id QEMU's drive_new() gives them", () => {
    const drives = (machine: string, ...args: string[]) =>
      modelFromCommandLine(["qemu-system-x86_64", "-M", machine, ...args]).devices.map((d) => (d.kind === "ide" ? `${d.bus} ${d.channel} ${d.backend?.node}` : `${d.kind} ${d.backend?.node}`));
    const args = ["-hda", "a.img", "-cdrom", "c.iso", "-drive", "file=b.img", "-drive", "file=d.img,if=ide,index=3"];
    // pc: two units a bus; -cdrom is index 2 (bus 1 unit 0); the -drive without index takes the first free unit.
    expect(drives("pc", ...args)).toEqual(["ide ide.0 ide0-hd0", "ide ide.1 ide1-cd0", "ide ide.0 ide0-hd1", "ide ide.1 ide1-hd1"]);
    // q35: one unit a bus, each an AHCI port.
    expect(drives("pc-q35-7.2", ...args)).toEqual(["ahci ide.0 ide0-hd0", "ahci ide.2 ide2-cd0", "ahci ide.1 ide1-hd0", "ahci ide.3 ide3-hd0"]);
    const scsi = Array.from({ length: 8 }, (_, i) => ["-drive", `file=s${i}.img,if=scsi`]).flat();
    const model = modelFromCommandLine(["qemu-system-x86_64", "-device", "lsi53c895a,id=scsi0", ...scsi]);
    expect((model.devices[0] as { disks: { backend: { node: string } }[] }).disks.map((d) => d.backend.node)).toEqual(["scsi0-hd0", "scsi0-hd1", "scsi0-hd2", "scsi0-hd3", "scsi0-hd4", "scsi0-hd5", "scsi0-hd6", "scsi1-hd0"]);
    expect(refusal(() => modelFromCommandLine(["qemu-system-x86_64", "-drive", "file=a.img,if=sata"]))).toBe(
      "bad -drive if=sata; allowed: none, ide, scsi, floppy, pflash, mtd, sd, virtio, xen (QEMU: \"unsupported bus type 'sata'\")",
    );
  });

  it("ioeventfd=off is kept (requests then start in the vCPU thread)", () => {
    expect(modelFromCommandLine(["qemu-system-x86_64", "-device", "virtio-blk-pci,ioeventfd=off"]).devices[0]).toMatchObject({ ioeventfd: { value: false, from: "given" } });
  });
});

describe("refusals: one line naming the value", () => {
  const cmd = (...args: string[]) => () => modelFromCommandLine(["qemu-system-x86_64", ...args]);

  it("refuses what QEMU refuses", () => {
    expect(refusal(cmd("-device", "virtio-blk-pci,id=d0,queue-size=100"))).toBe("bad -device virtio-blk-pci (d0) queue-size=100; allowed: a power of 2 from 4 to 1024 (QEMU refuses it)");
    expect(refusal(cmd("-device", "virtio-blk-pci,queue-size=2048"))).toBe("bad -device virtio-blk-pci queue-size=2048; allowed: a power of 2 from 4 to 1024 (QEMU refuses it)");
    expect(refusal(cmd("-device", "virtio-blk-pci,queue-size=2"))).toBe("bad -device virtio-blk-pci queue-size=2; allowed: a power of 2 from 4 to 1024 (QEMU refuses it)");
    expect(refusal(cmd("-device", "virtio-blk-pci,num-queues=0"))).toBe("bad -device virtio-blk-pci num-queues=0; allowed: 1 to 1024 (QEMU refuses it)");
    expect(refusal(cmd("-device", "virtio-blk-pci,num-queues=many"))).toBe("bad -device virtio-blk-pci num-queues=many; allowed: a whole number from 0 to 65535 (QEMU refuses it)");
    expect(refusal(cmd("-device", "virtio-scsi-pci,num_queues=1023"))).toBe("bad -device virtio-scsi-pci num_queues=1023; allowed: 1 to 1022 (QEMU refuses it)");
    expect(refusal(cmd("-device", "virtio-scsi-pci,virtqueue_size=2"))).toBe("bad -device virtio-scsi-pci virtqueue_size=2; allowed: 3 to 1024 (QEMU refuses it)");
    expect(refusal(cmd("-device", "nvme,max_ioqpairs=0"))).toBe("bad -device nvme max_ioqpairs=0; allowed: 1 to 65535 (QEMU refuses it)");
    expect(refusal(cmd("-object", "iothread,id=t0", "-device", "virtio-blk-pci,iothread=t9"))).toBe("bad -device virtio-blk-pci iothread t9; allowed: t0");
    expect(refusal(cmd("-object", "iothread,id=t0", "-device", '{"driver":"virtio-blk-pci","iothread":"t0","iothread-vq-mapping":[{"iothread":"t0"}]}'))).toBe(
      'bad -device virtio-blk-pci: iothread and iothread-vq-mapping both set; allowed: one of them (QEMU: "iothread and iothread-vq-mapping properties cannot be set at the same time")',
    );
  });

  it("refuses an IOThread with ioeventfd off, as virtio-blk's and virtio-scsi's realize do", () => {
    expect(refusal(cmd("-object", "iothread,id=t0", "-device", "virtio-blk-pci,id=d0,iothread=t0,ioeventfd=off"))).toBe(
      'bad -device virtio-blk-pci (d0): an IOThread with ioeventfd=off; allowed: ioeventfd on, or no IOThread (QEMU: "ioeventfd is required for iothread")',
    );
    expect(refusal(cmd("-object", "iothread,id=t0", "-global", "virtio-pci.ioeventfd=off", "-device", "virtio-scsi-pci,iothread=t0"))).toBe(
      'bad -device virtio-scsi-pci: an IOThread with ioeventfd=off; allowed: ioeventfd on, or no IOThread (QEMU: "ioeventfd is required for iothread")',
    );
    expect(modelFromCommandLine(["qemu-system-x86_64", "-device", "virtio-blk-pci,ioeventfd=off"]).devices[0]).toMatchObject({ iothread: null, ioeventfd: { value: false } });
  });

  it("refuses the iothread-vq-mappings QEMU's iothread_vq_mapping_validate() refuses", () => {
    const mapped = (mapping: unknown[]) => cmd("-smp", "4", "-object", "iothread,id=a", "-object", "iothread,id=b", "-device", JSON.stringify({ driver: "virtio-blk-pci", "num-queues": 4, "iothread-vq-mapping": mapping }));
    expect(refusal(mapped([{ iothread: "a" }, { iothread: "a" }]))).toBe('bad -device virtio-blk-pci iothread-vq-mapping: duplicate IOThread name "a" in iothread-vq-mapping; allowed: each IOThread once');
    expect(refusal(mapped([{ iothread: "a", vqs: [0, 1, 2, 3] }, { iothread: "b" }]))).toBe(
      "bad -device virtio-blk-pci iothread-vq-mapping: either all items in iothread-vq-mapping must have vqs or none of them must have it; allowed: vqs on all entries or on none",
    );
    expect(refusal(mapped([{ iothread: "a", vqs: [0, 4] }, { iothread: "b", vqs: [1, 2, 3] }]))).toBe(
      'bad -device virtio-blk-pci iothread-vq-mapping: vq index 4 for IOThread "a" must be less than num_queues 4; allowed: 0 to 3',
    );
    expect(refusal(mapped([{ iothread: "a", vqs: [0, 1] }, { iothread: "b", vqs: [1, 2, 3] }]))).toBe(
      'bad -device virtio-blk-pci iothread-vq-mapping: cannot assign vq 1 to IOThread "b" because it is already assigned; allowed: each vq once',
    );
    expect(refusal(mapped([{ iothread: "a", vqs: [0, 1] }, { iothread: "b", vqs: [3] }]))).toBe(
      "bad -device virtio-blk-pci iothread-vq-mapping: missing vq 2 IOThread assignment; allowed: every vq from 0 to 3 assigned",
    );
    expect(modelFromCommandLine(["qemu-system-x86_64", ...["-smp", "4", "-object", "iothread,id=a", "-object", "iothread,id=b"], "-device", JSON.stringify({ driver: "virtio-blk-pci", "iothread-vq-mapping": [{ iothread: "a" }, { iothread: "b" }] })]).devices[0]).toMatchObject({
      numQueues: { value: 4 }, iothreadVqMapping: [{ iothread: "a", vqs: null }, { iothread: "b", vqs: null }],
    });
  });

  it("refuses properties QEMU 7.2 does not have when the version is 7.2 or older", () => {
    const v72 = { qemuVersion: { major: 7, minor: 2 } };
    const mapping = ["qemu-system-x86_64", "-object", "iothread,id=a", "-device", '{"driver":"virtio-blk-pci","iothread-vq-mapping":[{"iothread":"a"}]}'];
    expect(refusal(() => modelFromCommandLine(mapping, v72))).toBe(
      "bad -device virtio-blk-pci iothread-vq-mapping: QEMU 7.2 has no such property; allowed: the device without it (it came after 7.2; hw/block/virtio-blk.c:1873 DEFINE_PROP_IOTHREAD_VQ_MAPPING_LIST (7.2: none))",
    );
    expect(refusal(() => modelFromCommandLine(["qemu-system-x86_64", "-device", "nvme,serial=x,mqes=127"], v72))).toBe(
      'bad -device nvme mqes: QEMU 7.2 has no such property; allowed: the device without it (it came after 7.2; hw/nvme/ctrl.c:9085 DEFINE_PROP_UINT16("mqes") (7.2: none; CAP.MQES fixed at 0x7ff, ctrl.c:7487))',
    );
    expect(modelFromCommandLine(mapping, { qemuVersion: { major: 10, minor: 0 } }).devices[0]).toMatchObject({ iothreadVqMapping: [{ iothread: "a", vqs: null }] });
    expect(modelFromCommandLine(["qemu-system-x86_64", "-device", "nvme,serial=x"], v72).devices[0]).toMatchObject({ queueEntries: { value: 2048 } });
  });

  it("refuses what is not a QEMU command line or not a domain", () => {
    expect(refusal(() => modelFromCommandLine("bash -c 'echo qemu'"))).toBe('not a QEMU command line: it starts with "bash"; allowed: a command whose program is qemu-system-*, qemu-kvm or kvm');
    expect(refusal(() => modelFromCommandLine("qemu-system-x86_64 -m 1 | tee log"))).toBe('bad QEMU command line: the shell operator "|" in it; allowed: one command with its arguments');
    expect(refusal(() => modelFromCommandLine("qemu-system-x86_64 -device"))).toBe("bad QEMU command line: -device has no argument; allowed: -device followed by its value");
    expect(refusal(() => modelFromCommandLine(["qemu-system-x86_64", "-device", "{driver"]))).toMatch(/^bad -device argument "\{driver": .*; allowed: key=value,… or one JSON object$/);
    expect(refusal(() => modelFromLibvirtXml(fixture("not-domain.xml")))).toBe("not a libvirt domain XML: its root is <network>; allowed: <domain>");
    expect(refusal(() => modelFromLibvirtXml("<domain><name>x</domain>"))).toMatch(/^not a libvirt domain XML: .* at line 1; allowed: the XML of virsh dumpxml$/);
  });
});

describe("bad input at the model: one line naming it", () => {
  const notQemu = (program: string) => `not a QEMU command line: it starts with ${JSON.stringify(program)}; allowed: a command whose program is qemu-system-*, qemu-kvm or kvm`;

  it("a command line that is not QEMU's system emulator, in each form it comes in", () => {
    expect(refusal(() => modelFromCommandLine("/usr/bin/sleep 30"))).toBe(notQemu("/usr/bin/sleep"));
    expect(refusal(() => modelFromCommandLine("sleep\u000030\u0000"))).toBe(notQemu("sleep"));
    expect(refusal(() => modelFromCommandLine(["/usr/bin/python3", "-m", "qemu"]))).toBe(notQemu("/usr/bin/python3"));
    expect(refusal(() => modelFromCommandLine(""))).toBe(notQemu(""));
    expect(refusal(() => modelFromCommandLine([]))).toBe(notQemu(""));
    expect(refusal(() => modelFromCommandLine("LC_ALL=C PATH=/bin"))).toBe(notQemu(""));
    // QEMU's tools and its user-mode emulators run no VM.
    for (const tool of ["qemu-img", "/usr/bin/qemu-nbd", "qemu-io", "qemu-storage-daemon", "qemu-ga", "/usr/bin/qemu-x86_64", "qemu-system"]) {
      expect(refusal(() => modelFromCommandLine([tool, "-m", "1"]))).toBe(notQemu(tool));
    }
    for (const emulator of ["qemu-system-x86_64", "/usr/bin/qemu-system-aarch64", "/usr/libexec/qemu-kvm", "/usr/bin/kvm", "qemu-system-ppc64le"]) {
      expect(modelFromCommandLine([emulator]).emulator).toBe(emulator);
    }
  });

  it("XML that is not a domain", () => {
    expect(refusal(() => modelFromLibvirtXml(" \n"))).toBe("not a libvirt domain XML: the text is empty; allowed: the XML of virsh dumpxml");
    expect(refusal(() => modelFromLibvirtXml("qemu-system-x86_64 -m 1"))).toBe("not a libvirt domain XML: char 'q' is not expected at line 1; allowed: the XML of virsh dumpxml");
    expect(refusal(() => modelFromLibvirtXml("<?xml version='1.0'?>\n<pool type='dir'><name>default</name></pool>"))).toBe("not a libvirt domain XML: its root is <pool>; allowed: <domain>");
    expect(refusal(() => modelFromLibvirtXml("<domain type='kvm'><name>a</name></domain><domain type='kvm'><name>b</name></domain>"))).toBe(
      "not a libvirt domain XML: Multiple possible root nodes found at line 1; allowed: the XML of virsh dumpxml",
    );
    // An empty second root slips past the validator.
    expect(refusal(() => modelFromLibvirtXml("<domain type='kvm'><name>a</name></domain><domain/>"))).toBe("not a libvirt domain XML: it holds 2 <domain> elements at its root; allowed: one <domain>");
  });

  it("-smp 0: refused, as QEMU 10 does; QEMU 7.2 only warns and counts it as omitted", () => {
    expect(refusal(() => modelFromCommandLine(["qemu-system-x86_64", "-smp", "0"]))).toBe(
      'bad -smp cpus=0; allowed: a whole number of at least 1 (QEMU: "CPU topology parameters must be greater than zero")',
    );
    expect(modelFromCommandLine(["qemu-system-x86_64", "-smp", "0,sockets=2,cores=3"], { qemuVersion: { major: 7, minor: 2 } }).vcpus).toMatchObject({ value: 6, from: "derived" });
  });

  it("values QEMU's property parser refuses: not a number, too big for the property's type", () => {
    const cmd = (device: string) => () => modelFromCommandLine(["qemu-system-x86_64", "-device", device]);
    expect(refusal(cmd("virtio-blk-pci,queue-size=-4"))).toBe("bad -device virtio-blk-pci queue-size=-4; allowed: a whole number from 0 to 65535 (QEMU refuses it)");
    expect(refusal(cmd("virtio-blk-pci,num-queues=65536"))).toBe("bad -device virtio-blk-pci num-queues=65536; allowed: a whole number from 0 to 65535 (QEMU refuses it)");
    expect(refusal(cmd("virtio-scsi-pci,cmd_per_lun=lots"))).toBe("bad -device virtio-scsi-pci cmd_per_lun=lots; allowed: a whole number from 0 to 4294967295 (QEMU refuses it)");
    expect(refusal(cmd("nvme,serial=s,mqes=0"))).toBe("bad -device nvme mqes=0; allowed: 1 to 65535 (QEMU refuses it)");
    expect(refusal(cmd("virtio-blk-pci,ioeventfd=maybe"))).toBe("bad -device virtio-blk-pci ioeventfd=maybe; allowed: on or off (QEMU refuses it)");
    expect(modelFromCommandLine(["qemu-system-x86_64", "-device", "virtio-blk-pci,queue-size=0x100"]).devices[0]).toMatchObject({ queueSize: { value: 256 } });
  });
});

/**
 * libvirt's own translation: `virsh domxml-to-native qemu-argv` needs the
 * QEMU driver of a running libvirt daemon. The test never touches the
 * system's: virsh autostarts a session daemon (qemu:///session) whose
 * socket, config, state and cache all live in a temp folder (HOME and the
 * XDG folders point there), run as the unprivileged user "nobody" when the
 * test runs as root (libvirt maps root's session URI to the system daemon).
 * That daemon is stopped by the pid it writes. Normalised: the virt type
 * (kvm → qemu, as the session runs TCG), the CPU mode, and <hostdev> and
 * <interface> (a session may not open VFIO or tap devices) are left out of
 * what libvirt gets; none of them changes the model. The models are then
 * compared whole except `ignored`, which the command line fills with every
 * -device that is not storage and the XML does not; ids need no
 * normalising: libvirt-xml.ts names every device and node as libvirt does.
 */
describe("libvirt's own command line for each XML fixture", () => {
  const session = libvirtSession();
  afterAll(() => {
    if (typeof session !== "string") session.stop();
  });

  for (const name of ["db01.xml", "app01.xml", "nvme-mapping.xml"]) {
    const why = typeof session === "string" ? session : null;
    it.skipIf(why !== null)(`${name}: virsh domxml-to-native gives a command line with the same model${why ? ` (skipped: ${why})` : ""}`, (ctx) => {
      if (typeof session === "string") return;
      let argv: string;
      try {
        argv = session.toNative(name, fixture(name));
      } catch (error) {
        // libvirt 9.0 (Debian 12) has no <disk bus='nvme'> and no per-queue IOThreads yet.
        const message = String((error as { stderr?: string }).stderr ?? error).trim().split("\n")[0];
        ctx.skip(`this libvirt refuses ${name}: ${message}`);
        return;
      }
      expect(comparable(modelFromCommandLine(argv))).toEqual(comparable(modelFromLibvirtXml(fixture(name))));
      // app01.args is the line this libvirt wrote for app01.xml: the same model, the ignored devices included.
      if (name === "app01.xml") expect(modelFromCommandLine(argv).devices).toEqual(modelFromCommandLine(fixture("app01.args")).devices);
    }, 60_000);
  }
});

interface LibvirtSession {
  toNative(name: string, xml: string): string;
  stop(): void;
}

/** A libvirt session of our own in a temp folder, or why there cannot be one. */
function libvirtSession(): LibvirtSession | string {
  try {
    execFileSync("virsh", ["--version"], { stdio: "ignore" });
  } catch {
    return "virsh is not installed (apt-get install libvirt-clients libvirt-daemon-system)";
  }
  if (!existsSync("/usr/sbin/libvirtd")) return "no /usr/sbin/libvirtd to start a session daemon (apt-get install libvirt-daemon)";
  const root = process.getuid?.() === 0;
  let owner: number | null = null;
  if (root) {
    try {
      owner = Number(execFileSync("id", ["-u", "nobody"], { encoding: "utf8" }).trim());
      execFileSync("runuser", ["--help"], { stdio: "ignore" });
    } catch {
      return "running as root with no user 'nobody' or no runuser: libvirt maps root's session URI to the system daemon, which the test does not start";
    }
  }
  const dir = mkdtempSync(join(tmpdir(), "coropool-libvirt-"));
  const run = join(dir, "run");
  for (const sub of ["run", "config", "cache", "home", "xml"]) mkdirSync(join(dir, sub));
  if (owner !== null) {
    chmodSync(dir, 0o755);
    for (const sub of ["run", "config", "cache", "home", "xml"]) chownSync(join(dir, sub), owner, owner);
  }
  chmodSync(run, 0o700);
  const env = [`HOME=${join(dir, "home")}`, `XDG_RUNTIME_DIR=${run}`, `XDG_CONFIG_HOME=${join(dir, "config")}`, `XDG_CACHE_HOME=${join(dir, "cache")}`];
  const prefix = owner !== null ? ["runuser", "-u", "nobody", "--", "env", ...env] : ["env", ...env];
  return {
    toNative(name, xml) {
      const file = join(dir, "xml", name);
      writeFileSync(file, sessionXml(xml));
      if (owner !== null) chownSync(file, owner, owner);
      const [program, ...args] = [...prefix, "virsh", "-c", "qemu:///session", "domxml-to-native", "qemu-argv", file];
      return execFileSync(program!, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 50_000 });
    },
    stop() {
      const pidFile = join(run, "libvirt", "libvirtd.pid");
      if (!existsSync(pidFile)) return;
      try {
        process.kill(Number(readFileSync(pidFile, "utf8").trim()), "SIGTERM");
      } catch {
        // already gone (its idle timeout)
      }
    },
  };
}

/** What a TCG session daemon can start: type qemu, no host CPU, no passthrough, no tap networking. */
function sessionXml(xml: string): string {
  return xml
    .replace(/<domain type='kvm'/, "<domain type='qemu'")
    .replace(/<cpu mode='host-passthrough'[^>]*>/, "<cpu>")
    .replace(/<hostdev[\s\S]*?<\/hostdev>/g, "")
    .replace(/<interface[\s\S]*?<\/interface>/g, "");
}
