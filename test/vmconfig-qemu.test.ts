/**
 * vmconfig against the real QEMU (the system's qemu-system-x86_64, 7.2 on
 * Debian 12, under TCG): src/host/vm-config.ts reads the model of a running
 * QEMU from /proc/PID/cmdline and its version from /proc/PID/exe (the QEMU
 * is stopped before its first instruction by -S and killed at the end), a
 * process that is not QEMU is refused; and each value the model refuses as
 * "QEMU refuses it" is one this QEMU refuses too.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { vmConfigOfPid } from "../src/host/vm-config.js";
import { modelFromCommandLine, type Nvme, type VirtioBlk, type VirtioScsi } from "../src/vmconfig/index.js";
import { refusal } from "./vmconfig-refusal.js";

const QEMU = "/usr/bin/qemu-system-x86_64";
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill("SIGKILL");
});

/** A child, and its pid once it runs `program` (right after spawn /proc/PID/exe may still be node's). */
async function started(program: string, args: string[]): Promise<ChildProcess> {
  const child = spawn(program, args, { stdio: "ignore" });
  children.push(child);
  const pid = child.pid!;
  for (let i = 0; i < 100; i++) {
    try {
      if (readlinkSync(`/proc/${pid}/exe`) === program) return child;
    } catch {
      // not yet there
    }
    if (child.exitCode !== null) throw new Error(`${program} exited at once (status ${child.exitCode})`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${program} (pid ${pid}) did not start within 5 s`);
}


describe("vmConfigOfPid", () => {
  it.skipIf(!existsSync(QEMU))(`a running QEMU: its command line's model, with the version read from its binary${existsSync(QEMU) ? "" : ` (skipped: no ${QEMU}; apt-get install qemu-system-x86)`}`, async () => {
    const dir = mkdtempSync(join(tmpdir(), "coropool-pid-"));
    const disk = join(dir, "disk.raw");
    writeFileSync(disk, Buffer.alloc(1 << 20));
    const qemu = await started(QEMU, [
      "-accel", "tcg", "-S", "-display", "none", "-nodefaults", "-no-user-config", "-m", "64", "-name", "guest=pidtest",
      "-machine", "pc-q35-7.2", "-smp", "3",
      "-object", "iothread,id=io1",
      "-blockdev", `{"driver":"file","filename":"${disk}","node-name":"disk-storage"}`,
      "-blockdev", '{"driver":"raw","file":"disk-storage","node-name":"disk-format"}',
      "-device", '{"driver":"virtio-blk-pci","drive":"disk-format","id":"vd0","iothread":"io1","num-queues":2,"queue-size":128}',
      "-drive", `if=none,id=n0,file=${disk},format=raw,file.locking=off`,
      "-device", "nvme,drive=n0,serial=s0,id=nvme0,max_ioqpairs=4",
    ]);
    const pid = qemu.pid!;
    const running = vmConfigOfPid(pid);
    // Still running after the read: QEMU took the command line the model was read from.
    await new Promise((r) => setTimeout(r, 300));
    expect(qemu.exitCode).toBeNull();
    const packaged = /QEMU emulator version (\d+\.\d+(?:\.\d+)?)/.exec(readFileSync(QEMU, "latin1"))![1];
    expect(running).toMatchObject({ pid, exe: QEMU, version: packaged });
    expect(running.model).toMatchObject({
      name: "pidtest", emulator: QEMU, machine: { version: { major: 7, minor: 2 } }, vcpus: { value: 3, from: "given" }, iothreads: [{ id: "io1" }],
    });
    expect(running.model.devices).toMatchObject([
      { kind: "virtio-blk", id: "vd0", numQueues: { value: 2, from: "given" }, queueSize: { value: 128, from: "given" }, iothread: "io1", backend: { node: "disk-format", drivers: ["raw", "file"] } },
      { kind: "nvme", id: "nvme0", maxIoqpairs: { value: 4, from: "given" }, queueEntries: { value: 2048, from: "default" }, namespaces: [{ nsid: 1, backend: { node: "n0" } }] },
    ]);
  }, 20_000);

  it("a process that is not QEMU: one line naming its program", async () => {
    const pid = (await started("/usr/bin/sleep", ["30"])).pid!;
    expect(refusal(() => vmConfigOfPid(pid))).toBe(
      `bad pid ${pid}: not a QEMU process (its program is /usr/bin/sleep); allowed: the pid of a running QEMU system emulator (qemu-system-*, qemu-kvm or kvm)`,
    );
  }, 10_000);

  it("a pid no process has: one line", () => {
    const pid = Number(readFileSync("/proc/sys/kernel/pid_max", "utf8")) + 1;
    expect(refusal(() => vmConfigOfPid(pid))).toBe(`bad pid ${pid}: no such process; allowed: the pid of a running QEMU system emulator (qemu-system-*, qemu-kvm or kvm)`);
  });
});

/** QEMU's exit status and first line of stderr for a command line, bounded by 10 s. */
function qemuRefusal(args: string[]): Promise<{ status: number | null; message: string }> {
  return new Promise((resolve) => {
    execFile(QEMU, ["-accel", "tcg", "-S", "-display", "none", "-nodefaults", "-no-user-config", "-m", "64", ...args], { timeout: 10_000 }, (error, _out, err) => {
      resolve({ status: error ? ((error as { code?: number }).code ?? null) : 0, message: err.split("\n")[0]! });
    });
  });
}

describe.skipIf(!existsSync(QEMU))("what the model refuses as QEMU's refusal, this QEMU refuses", () => {
  const disk = join(mkdtempSync(join(tmpdir(), "coropool-refuse-")), "disk.raw");
  writeFileSync(disk, Buffer.alloc(1 << 20));
  const drive = ["-drive", `if=none,id=d0,file=${disk},format=raw`];
  const cases: [string, string[], RegExp][] = [
    ["virtio-blk queue-size=2", [...drive, "-device", "virtio-blk-pci,drive=d0,queue-size=2"], /invalid queue-size property \(2\), must be > 2/],
    ["virtio-blk queue-size=100", [...drive, "-device", "virtio-blk-pci,drive=d0,queue-size=100"], /invalid queue-size property \(100\), must be a power of 2/],
    ["virtio-blk num-queues=0", [...drive, "-device", "virtio-blk-pci,drive=d0,num-queues=0"], /num-queues property must be larger than 0/],
    ["virtio-scsi virtqueue_size=2", ["-device", "virtio-scsi-pci,virtqueue_size=2"], /invalid virtqueue_size property \(= 2\), must be > 2/],
    ["virtio-scsi num_queues=1023", ["-device", "virtio-scsi-pci,num_queues=1023"], /Invalid number of queues \(= 1023\)/],
    ["nvme max_ioqpairs=0", [...drive, "-device", "nvme,drive=d0,serial=s,max_ioqpairs=0"], /max_ioqpairs must be between 1 and 65535/],
    ["an IOThread with ioeventfd=off", [...drive, "-object", "iothread,id=t0", "-device", "virtio-blk-pci,drive=d0,iothread=t0,ioeventfd=off"], /ioeventfd is required for iothread/],
    ["nvme mqes on 7.2", [...drive, "-device", "nvme,drive=d0,serial=s,mqes=127"], /Property 'nvme.mqes' not found/],
  ];
  for (const [what, args, said] of cases) {
    it(what, async () => {
      expect(() => modelFromCommandLine([QEMU, ...args], { qemuVersion: { major: 7, minor: 2 } })).toThrow(/^bad -device .*/);
      const { status, message } = await qemuRefusal(args);
      expect(status).toBe(1);
      expect(message).toMatch(said);
    }, 15_000);
  }
});

/** What QEMU's monitor prints for `command` with `args`, QEMU stopped (-S) and quit after; bounded by 10 s. */
function monitorOutput(args: string[], command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const qemu = spawn(QEMU, ["-accel", "tcg", "-S", "-display", "none", "-nodefaults", "-no-user-config", "-m", "64", "-monitor", "stdio", ...args], { stdio: ["pipe", "pipe", "pipe"] });
    children.push(qemu);
    let out = "";
    qemu.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    const timer = setTimeout(() => qemu.kill("SIGKILL"), 10_000);
    qemu.on("error", reject);
    qemu.on("close", () => {
      clearTimeout(timer);
      resolve(out.replaceAll("\r", ""));
    });
    qemu.stdin.end(`${command}\nquit\n`);
  });
}

describe.skipIf(!existsSync(QEMU))("the drives the model places are where this QEMU places them", () => {
  for (const machine of ["pc", "pc-q35-7.2"]) {
    it(`${machine}: -hda, -cdrom, a -drive without index and one with index=3 get QEMU's ids`, async () => {
      const dir = mkdtempSync(join(tmpdir(), "coropool-drives-"));
      for (const name of ["a.img", "b.img", "c.iso", "d.img"]) writeFileSync(join(dir, name), Buffer.alloc(1 << 20));
      const args = ["-M", machine, "-hda", join(dir, "a.img"), "-cdrom", join(dir, "c.iso"), "-drive", `file=${join(dir, "b.img")},format=raw`, "-drive", `file=${join(dir, "d.img")},if=ide,index=3,format=raw`];
      // "ide1-cd0 (#block397): /tmp/…/c.iso (raw, read-only)": the drive's id, in the order the drives were given.
      const shown = (await monitorOutput(args, "info block")).split("\n").flatMap((line) => /^([\w-]+) \(#block\d+\): /.exec(line)?.[1] ?? []);
      const modelled = modelFromCommandLine([QEMU, ...args]).devices.map((d) => (d.kind === "ide" ? d.backend!.node : d.kind));
      expect(shown).toHaveLength(4);
      expect(shown).toEqual(modelled);
    }, 15_000);
  }
});

/** From `info qtree`: each device with an id, and the demand properties printed under it (its virtio child's included). */
function qtreeProperties(text: string): Map<string, Record<string, string>> {
  const devices = new Map<string, Record<string, string>>();
  let current: Record<string, string> | null = null;
  for (const line of text.split("\n")) {
    const dev = /dev: [\w-]+, id "([^"]*)"/.exec(line);
    if (dev) {
      if (dev[1] !== "") devices.set(dev[1]!, (current = {}));
      continue;
    }
    const prop = /^\s+(num-queues|queue-size|num_queues|virtqueue_size|cmd_per_lun|max_ioqpairs|ioeventfd) = (\w+)/.exec(line);
    if (prop && current) current[prop[1]!] = prop[2]!;
  }
  return devices;
}

describe.skipIf(!existsSync(QEMU))("the defaults and compat rules the model resolves are the values this QEMU realizes", () => {
  const configs: [string, string[]][] = [
    ["pc-q35-4.2 (hw_compat_4_2 and 5_1)", ["-M", "pc-q35-4.2", "-smp", "6"]],
    ["pc-q35-5.1 (hw_compat_5_1)", ["-M", "pc-q35-5.1", "-smp", "6"]],
    ["pc-q35-7.2, auto queues from 6 vCPUs", ["-M", "pc-q35-7.2", "-smp", "6"]],
    ["pc, -global over the defaults", ["-M", "pc", "-smp", "sockets=2,cores=2", "-global", "virtio-blk-device.queue-size=64", "-global", "virtio-scsi-pci.num_queues=3"]],
  ];
  for (const [what, machine] of configs) {
    it(what, async () => {
      const disk = join(mkdtempSync(join(tmpdir(), "coropool-qtree-")), "q.img");
      writeFileSync(disk, Buffer.alloc(1 << 20));
      const args = [...machine, "-drive", `if=none,id=d0,file=${disk},format=raw`, "-device", "virtio-blk-pci,drive=d0,id=vd0", "-device", "virtio-scsi-pci,id=s0", "-device", "nvme,serial=x,id=n0"];
      const realized = qtreeProperties(await monitorOutput(args, "info qtree"));
      const model = modelFromCommandLine([QEMU, ...args], { qemuVersion: { major: 7, minor: 2 } });
      const [blk, scsi, nvme] = model.devices as [VirtioBlk, VirtioScsi, Nvme];
      expect(realized.get("vd0")).toEqual({ ioeventfd: String(blk.ioeventfd.value), "num-queues": String(blk.numQueues.value), "queue-size": String(blk.queueSize.value) });
      expect(realized.get("s0")).toEqual({ ioeventfd: String(scsi.ioeventfd.value), num_queues: String(scsi.numQueues.value), virtqueue_size: String(scsi.virtqueueSize.value), cmd_per_lun: String(scsi.cmdPerLun.value) });
      // QEMU prints the deprecated num_queues (0: unset) and max_ioqpairs; CAP.MQES is fixed in 7.2.
      expect(realized.get("n0")).toMatchObject({ max_ioqpairs: String(nvme.maxIoqpairs.value) });
      expect(nvme.queueEntries.value).toBe(2048);
    }, 15_000);
  }
});
