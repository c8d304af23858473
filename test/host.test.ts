/**
 * The host floor on real processes: the C helper (test/fixtures/host/stacks.c)
 * maps stacks as QEMU does with decoys around them, the kernel backend maps
 * its real stacks, and QEMU's own binary carries its version.
 */
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, describe, expect, it } from "vitest";
import { snapshot as apiSnapshot, watch } from "../src/index.js";
import { scanMapsText, threadStackSize, UNLIMITED_THREAD_STACK_SIZE } from "../src/host/maps-stacks.js";
import { isQemuExe, policyForVersion, vmNameOf } from "../src/host/process-info.js";
import { listQemuProcesses, snapshot } from "../src/host/snapshot.js";
import { trendOf } from "../src/host/watcher.js";
import { ROOT } from "./helpers/cli.js";
import { HOST_SKIP_REASON, StacksHelpers } from "./helpers/stacks-helper.js";

if (HOST_SKIP_REASON !== null) console.warn(`host tests skipped: ${HOST_SKIP_REASON}`);
const describeHost = HOST_SKIP_REASON === null ? describe : describe.skip;

const helpers = new StacksHelpers();
const dir = helpers.dir;
const build = (name: string, version?: string) => helpers.build(name, version);
const start = (binary: string, args: string[]) => helpers.start(binary, args);

afterAll(() => helpers.cleanUp());

describeHost("the stack rule on a process that maps stacks as qemu_alloc_stack does", () => {
  it("counts plain and merged stacks exactly, none of the decoys, before and after some are unmapped", async () => {
    const binary = build("stacks");
    const { child, next } = await start(binary, ["--stacks", "40", "--merged", "5", "--big-merged", "1", "--decoys", "--unmap", "7"]);
    const ready = (await next()).split(" ");
    expect(ready[0]).toBe("READY");
    const before = snapshot(child.pid!);
    expect(before.unreadable).toBeUndefined();
    // 40 plain + 5 merged with a 64 KiB neighbour; the one merged into a thread-stack-sized neighbour is the rule's stated limit.
    expect(before.stacks).toBe(45);
    // The helper counts its own maps lines, [vsyscall] among them.
    expect(before.vmas).toBe(Number(ready[1]) - 1);
    expect(before.headroom).toEqual({ vmas: before.maxMapCount - before.vmas!, ratio: (before.maxMapCount - before.vmas!) / before.maxMapCount });
    child.kill("SIGUSR1");
    const done = (await next()).split(" ");
    expect(done[0]).toBe("DONE");
    const after = snapshot(child.pid!);
    expect(after.stacks).toBe(38);
    expect(after.vmas).toBe(Number(done[1]) - 1);
    expect(after.vmas).toBe(before.vmas! - 14);
  });

  it("reads the size the build uses: 256 KiB stacks are none at 1 MiB and all at 256k", async () => {
    const { child, next } = await start(build("stacks-small"), ["--stacks", "12", "--stack-size", String(256 << 10)]);
    await next();
    expect(snapshot(child.pid!).stacks).toBe(0);
    expect(snapshot(child.pid!, { stackSize: 256 << 10 }).stacks).toBe(12);
    expect((await apiSnapshot(child.pid!, { stackSize: "256k" })).stacks).toBe(12);
  });

  it("the rule over a maps text: a guard that is not one page, not adjacent, or not anonymous makes no stack", () => {
    const rule = { stackSize: 1 << 20, guardSize: 4096, threadStackSize: 8 << 20 };
    const text = [
      "7f0000000000-7f0000001000 ---p 00000000 00:00 0 ",
      "7f0000001000-7f0000101000 rw-p 00000000 00:00 0 ", // a stack
      "7f0000200000-7f0000201000 ---p 00000000 00:00 0 ",
      "7f0000202000-7f0000302000 rw-p 00000000 00:00 0 ", // not adjacent
      "7f0000400000-7f0000401000 ---p 00000000 00:00 0 ",
      "7f0000401000-7f0000501000 rw-p 00000000 fe:00 12 /tmp/file", // a file's map
      "7f0000600000-7f0000601000 ---p 00000000 00:00 0 ",
      "7f0000601000-7f0000e01000 rw-p 00000000 00:00 0 ", // 8 MiB: a thread's stack
      "7f0001000000-7f0001001000 ---p 00000000 00:00 0 ",
      "7f0001001000-7f0001181000 rw-p 00000000 00:00 0 ", // merged: 1.5 MiB
      "7f0002000000-7f0002001000 ---p 00000000 00:00 0 ",
      "7f0002001000-7f0002101000 rw-p 00000000 00:00 0 [anon:x]", // named
      "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]",
      "",
    ].join("\n");
    expect(scanMapsText(text, rule)).toEqual({ vmas: 12, stacks: 2 });
  });

  it("takes the thread stack size from RLIMIT_STACK: the soft limit, 2 MiB when unlimited", () => {
    expect(threadStackSize("Max stack size            8388608              unlimited            bytes\n", 4096)).toBe(8 << 20);
    expect(threadStackSize("Max stack size            unlimited            unlimited            bytes\n", 4096)).toBe(UNLIMITED_THREAD_STACK_SIZE);
    expect(threadStackSize("Max stack size            1000000              unlimited            bytes\n", 4096)).toBe(1003520);
    expect(threadStackSize(null, 4096)).toBe(8 << 20);
  });
});

describeHost("the kernel backend's real stacks", () => {
  it("counts exactly the stacks the allocator's VMA counter says are mapped", async () => {
    const dist = join(ROOT, "dist", "src");
    const script = `
      import { createInterface } from "node:readline";
      const { SharedRegion } = await import(${JSON.stringify(join(dist, "shared", "region.js"))});
      const { KernelStackBackend } = await import(${JSON.stringify(join(dist, "stacks", "kernel-backend.js"))});
      const { StackAllocator } = await import(${JSON.stringify(join(dist, "stacks", "stack-allocator.js"))});
      const { initialPoolMaxSize, policyId } = await import(${JSON.stringify(join(dist, "pools", "index.js"))});
      const n = 300;
      const region = SharedRegion.create({ policyId: policyId("none"), threads: 1, stackCapacity: n, vmaLimit: 60000, baselineVmas: 0, initialPoolMaxSize: initialPoolMaxSize("none"), hardMaxSize: 0 });
      const stacks = new StackAllocator(region, KernelStackBackend.create(n, 1 << 20));
      const slots = [];
      const say = () => console.log(String((stacks.vmas.current - stacks.vmas.baseline) / 2));
      say();
      for await (const line of createInterface({ input: process.stdin })) {
        if (slots.length === 0) slots.push(...Array.from({ length: n }, () => stacks.mapNew(0)));
        else for (const s of slots.splice(0, 111)) stacks.free(s, 0);
        say();
      }`;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["pipe", "pipe", "inherit"] });
    helpers.adopt(child);
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    expect(Number((await lines.next()).value)).toBe(0);
    // Node's own threads with a 2 MiB stack (libuv's, koffi's) look like merged coroutine stacks: the rule's stated limit. Counted before, they stay.
    const base = snapshot(child.pid!).stacks!;
    expect(base).toBeLessThanOrEqual(4);
    child.stdin!.write("map\n");
    const counted = Number((await lines.next()).value);
    expect(counted).toBe(300);
    expect(snapshot(child.pid!).stacks).toBe(base + counted);
    child.stdin!.write("free\n");
    const after = Number((await lines.next()).value);
    expect(after).toBe(189);
    expect(snapshot(child.pid!).stacks).toBe(base + after);
    child.stdin!.end();
  });
});

describeHost("what a process is", () => {
  it("reads the version from the bytes of the binary a process runs, after the file was deleted", async () => {
    const binary = build("qemu-system-test", "QEMU emulator version 9.1.0 (coropool test)");
    const { child, next } = await start(binary, ["--stacks", "3"]);
    await next();
    unlinkSync(binary);
    const s = snapshot(child.pid!);
    expect(s.exe).toBe(`${binary} (deleted)`);
    expect(s.qemu).toBe(true);
    expect(s.qemuVersion).toBe("9.1.0");
    expect(s.policy).toBe("batched (uncapped)");
    expect(s.policySource).toBe("version");
    expect(s.stacks).toBe(3);
    expect(listQemuProcesses()).toContain(child.pid);
    expect((await apiSnapshot(child.pid!, { policy: "legacy" })).policy).toBe("legacy");
  });

  it("a binary with no version: version and policy null", async () => {
    const copy = join(dir, "kvm");
    copyFileSync("/bin/sleep", copy);
    const child = spawn(copy, ["30"]);
    helpers.adopt(child);
    await new Promise((r) => setTimeout(r, 100));
    const s = snapshot(child.pid!);
    expect(s).toMatchObject({ qemu: true, qemuVersion: null, policy: null, policySource: null });
    child.kill();
  });

  it("the real QEMU binary: 7.2 is the legacy pool", async (ctx) => {
    const qemu = "/usr/bin/qemu-system-x86_64";
    if (!existsSync(qemu)) return ctx.skip(); // stated: no QEMU installed here
    const child = spawn(qemu, ["-machine", "none", "-display", "none", "-S", "-nodefaults", "-name", "guest=web-1,,a,debug-threads=on"], { stdio: "ignore" });
    helpers.adopt(child);
    await new Promise((r) => setTimeout(r, 300));
    const s = snapshot(child.pid!);
    expect(s.qemuVersion).toMatch(/^7\.2\.\d+$/);
    expect(s).toMatchObject({ qemu: true, policy: "legacy", vm: "web-1,a" });
    child.kill();
  });

  it("the VM's name from -name in its three forms; QEMU by the binary's name", () => {
    expect(vmNameOf(["qemu", "-name", "guest=db,debug-threads=on"])).toBe("db");
    expect(vmNameOf(["qemu", "-name", "db,process=qemu-db"])).toBe("db");
    expect(vmNameOf(["qemu", "-name", "db"])).toBe("db");
    expect(vmNameOf(["qemu", "-name", "process=x"])).toBe(null);
    expect(vmNameOf(["qemu", "-m", "512"])).toBe(null);
    expect(["qemu-system-x86_64", "qemu-kvm", "kvm", "/usr/bin/qemu-system-aarch64 (deleted)"].map(isQemuExe)).toEqual([true, true, true, true]);
    expect(["qemu-img", "node", "kvmtool"].map(isQemuExe)).toEqual([false, false, false]);
    expect(["8.2.50", "7.2.22", "9.0.0", "10.0.2", null].map(policyForVersion)).toEqual(["legacy", "legacy", "batched (uncapped)", "batched (uncapped)", null]);
  });

  it("a process that exited but was not reaped, one that does not exist, and pid 1 are reported, never thrown", async () => {
    const { next } = await start(build("stacks-zombie"), ["--zombie"]);
    const zombie = Number((await next()).split(" ")[2]);
    expect(snapshot(zombie)).toMatchObject({ pid: zombie, unreadable: "exited", stacks: null, vmas: null, headroom: null });
    expect(snapshot(4_194_304)).toMatchObject({ unreadable: "no such process", startTime: null });
    const init = snapshot(1);
    expect(init.qemu).toBe(false);
    expect(listQemuProcesses()).not.toContain(1);
    await expect(apiSnapshot(0)).rejects.toThrow("snapshot(): bad pid 0; allowed: a process id, an integer from 1 to 4194304");
  });

  it("a process killed while it is read: every snapshot is whole or says it exited", async () => {
    const { child, next } = await start(build("stacks-race"), ["--stacks", "2000"]);
    await next();
    const seen = new Set<string>();
    const killed = new Promise((r) => child.on("exit", r));
    setTimeout(() => child.kill("SIGKILL"), 5);
    for (let i = 0; i < 400 && child.exitCode === null && child.signalCode === null; i++) {
      const s = snapshot(child.pid!);
      seen.add(s.unreadable ?? (s.stacks === 2000 ? "whole" : `partial ${s.stacks}`));
      await new Promise((r) => setImmediate(r));
    }
    await killed;
    const last = snapshot(child.pid!);
    expect(last.unreadable === "no such process" || last.unreadable === "exited").toBe(true);
    for (const kind of seen) expect(["whole", "exited", "no such process"]).toContain(kind);
  });
});

describeHost("watch()", () => {
  it("yields samples with peak and trend until its signal fires", async () => {
    const { child, next } = await start(build("stacks-watch"), ["--stacks", "20", "--unmap", "5"]);
    await next();
    const ac = new AbortController();
    const stacks: (number | null)[] = [];
    const peaks: (number | null)[] = [];
    for await (const sample of watch({ pids: [child.pid!], intervalMs: 100, signal: ac.signal })) {
      const p = sample.processes[0]!;
      stacks.push(p.stacks);
      peaks.push(p.peakStacks);
      if (stacks.length === 1) expect(p.trend).toBe(null);
      if (stacks.length === 2) {
        child.kill("SIGUSR1");
        await next();
      }
      if (stacks.length === 3) ac.abort();
    }
    expect(stacks).toEqual([20, 20, 15]);
    expect(peaks).toEqual([20, 20, 20]);
    expect(trendOf([{ at: 0, stacks: 10 }, { at: 30_000, stacks: 40 }])).toBe(60);
    await expect(watch({ intervalMs: 5 }).next()).rejects.toThrow("bad intervalMs 5; allowed: an integer from 100 to 86400000");
  });
});
