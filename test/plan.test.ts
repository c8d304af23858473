/**
 * plan: a VM's configuration in, its demand, a worst-case schedule replayed
 * under every policy, and the smallest safe max_map_count out
 * (docs/design.md, "Plan: a VM's worst case").
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { plan } from "../src/api/plan.js";
import { demandOf } from "../src/plan/demand.js";
import { planOf } from "../src/plan/plan.js";
import { readPlanInput } from "../src/plan/plan-input.js";
import { SETTLE_ROUNDS } from "../src/plan/schedule.js";
import { replayTrace } from "../src/replay/replay.js";
import { parseTrace } from "../src/replay/trace.js";
import { schemaProblem } from "../src/report/result-schema.js";
import type { PlanDocument } from "../src/report/document.js";
import { CLI, runMain } from "./helpers/cli.js";

const FIXTURES = join(import.meta.dirname, "fixtures", "vmconfig");

/** Two vCPUs; an IOThread serving one virtio-blk of 2 × 64; a virtio-scsi of one queue of 16 with one disk, in the main loop. */
const SMALL = [
  "qemu-system-x86_64", "-machine", "q35", "-smp", "2",
  "-object", "iothread,id=io0",
  "-drive", "if=none,id=d0,file=/tmp/d0.img,format=raw",
  "-device", "virtio-blk-pci,drive=d0,iothread=io0,num-queues=2,queue-size=64",
  "-device", "virtio-scsi-pci,id=scsi0,num_queues=1,virtqueue_size=16",
  "-drive", "if=none,id=s0,file=/tmp/s0.img,format=raw",
  "-device", "scsi-hd,drive=s0,bus=scsi0.0",
];

function inputOf(argv: readonly string[], qemuVersion = "7.2") {
  return readPlanInput({ commandLine: argv }, { qemuVersion });
}

describe("a VM's demand", () => {
  it("counts each device's coroutines in flight on the threads that create and free them", () => {
    const input = inputOf(SMALL);
    const demand = demandOf(input.model, input.version);
    expect(demand.threads.map((t) => t.name)).toEqual(["main loop", "IOThread io0"]);
    expect(demand.sources.map((s) => [s.device, s.creators, s.terminator, s.requests, s.coroutinesPerRequest, s.coroutines])).toEqual([
      ["virtio-blk-pci", [1], 1, 128, 1, 128],
      // One queue of 16: 16 commands (cmd_per_lun is only the guest's default); a FUA write chains its flush.
      ["virtio-scsi-pci scsi0", [0], 0, 16, 2, 32],
    ]);
    // Only virtio-blk raises the pool: 2 × 64 / 2.
    expect(demand.totalPoolIncrease).toBe(64);
  });

  it("counts every NVMe request slot, two coroutines each, and a qcow2 node's tasks beneath a request", () => {
    const nvme = ["qemu-system-x86_64", "-drive", "if=none,id=n0,file=/tmp/n0.img,format=raw", "-device", "nvme,serial=n0,drive=n0,max_ioqpairs=2,mqes=15"];
    const input = inputOf(nvme, "10.0.2");
    // An SQ of 16 entries has 16 request slots (nvme_init_sq), each command up to 2 coroutines.
    expect(demandOf(input.model, input.version).sources.map((s) => [s.device, s.terminator, s.requests, s.coroutines])).toEqual([["nvme", 0, 32, 64]]);
    const qcow2 = ["qemu-system-x86_64", "-blockdev", "driver=file,filename=/tmp/q.qcow2,node-name=f0", "-blockdev", "driver=qcow2,file=f0,node-name=q0",
      "-device", "virtio-blk-pci,drive=q0,num-queues=1,queue-size=16"];
    const q = inputOf(qcow2, "10.0.2");
    // One block call and up to QCOW2_MAX_WORKERS (8) task coroutines beneath it.
    expect(demandOf(q.model, q.version).sources.map((s) => [s.requests, s.coroutinesPerRequest])).toEqual([[16, 9]]);
  });

  it("puts requests of a device with ioeventfd off on the vCPUs, freed in the main loop", () => {
    const argv = ["qemu-system-x86_64", "-smp", "3", "-drive", "if=none,id=d0,file=/tmp/d0.img", "-device", "virtio-blk-pci,drive=d0,num-queues=1,queue-size=128,ioeventfd=off"];
    const input = inputOf(argv);
    const demand = demandOf(input.model, input.version);
    expect(demand.threads.map((t) => t.name)).toEqual(["main loop", "vCPU 0", "vCPU 1", "vCPU 2"]);
    expect(demand.sources[0]).toMatchObject({ creators: [1, 2, 3], terminator: 0, coroutines: 128 });
  });

  it("adds no pool increase before QEMU 7.0, and follows an old machine type's defaults", () => {
    const before = inputOf(SMALL, "6.2");
    expect(demandOf(before.model, before.version).totalPoolIncrease).toBe(0);
    const argv = ["qemu-system-x86_64", "-machine", "pc-q35-4.2", "-smp", "4", "-drive", "if=none,id=d0,file=/tmp/d0.img", "-device", "virtio-blk-pci,drive=d0"];
    const old = inputOf(argv, "7.2");
    // Types up to 5.1 force num-queues=1, up to 4.2 queue-size=128.
    expect(demandOf(old.model, old.version).sources[0]).toMatchObject({ requests: 128 });
    expect(demandOf(old.model, old.version).totalPoolIncrease).toBe(64);
  });
});

describe("the worst-case schedule", () => {
  it("settles, and its trace replays to each row's peak", async () => {
    const input = inputOf(SMALL);
    const outcome = await planOf(input.model, { qemuVersion: input.version, maxMapCount: 65530, baselineVmas: 371, title: "small" });
    expect(outcome.schedule.settled).toBe(true);
    expect(outcome.schedule.rounds).toBeGreaterThan(SETTLE_ROUNDS);
    // The load brings each AioContext's thread pool (main loop and io0): 64 workers, 2 VMAs each.
    expect(outcome.baseline).toMatchObject({ vmas: 371 + 2 * 64 * 2, threadPool: 256 });
    const baselineVmas = outcome.baseline.vmas;
    const trace = parseTrace(outcome.schedule.trace());
    for (const row of outcome.rows) {
      const replayed = replayTrace(trace, { policy: row.policy, maxMapCount: 65530, baselineVmas, uncapped: row.uncapped });
      expect(replayed.result.vmas.peak, row.label).toBe(row.peakVmas);
      // VMAs = baseline + 2 × stacks.
      expect(row.peakVmas, row.label).toBe(baselineVmas + 2 * row.peakStacks);
    }
    // Without a pool, the peak is every device's coroutines at once.
    expect(outcome.rows.find((r) => r.policy === "none")!.peakStacks).toBe(128 + 32);
    // QEMU 7.2 runs legacy: that row, and only it, is this QEMU's.
    expect(outcome.rows.filter((r) => r.thisQemu).map((r) => r.label)).toEqual(["legacy"]);
  });

  it("marks batched uncapped as QEMU 10.0's, and no row when the version is unknown", async () => {
    const ten = inputOf(SMALL, "10.0.2");
    const rows10 = (await planOf(ten.model, { qemuVersion: ten.version, maxMapCount: 65530, baselineVmas: 371, title: "t" })).rows;
    expect(rows10.filter((r) => r.thisQemu).map((r) => r.label)).toEqual(["batched (uncapped)"]);
    const unknown = readPlanInput({ commandLine: SMALL.map((a) => (a === "qemu-system-x86_64" ? "/nonexistent/qemu-system-x86_64" : a)) }, {});
    expect(unknown.qemuVersion.value).toBeNull();
    expect(unknown.qemuVersion.from).toContain("is not on this host");
    const rows = (await planOf(unknown.model, { qemuVersion: null, maxMapCount: 65530, baselineVmas: 371, title: "t" })).rows;
    expect(rows.some((r) => r.thisQemu)).toBe(false);
  });

  it("stops between rounds when its signal fires: the rows of the schedule so far, marked interrupted", async () => {
    const ac = new AbortController();
    ac.abort();
    const doc = await plan({ commandLine: SMALL }, { qemuVersion: "7.2", maxMapCount: 65530, signal: ac.signal });
    expect(doc.interrupted).toBe(true);
    expect(doc.schedule).toMatchObject({ rounds: 0, settled: false });
    // Nothing ran but the pool increase: no policy mapped a stack.
    expect(doc.rows.map((r) => r.peakStacks)).toEqual([0, 0, 0, 0, 0]);
    expect(schemaProblem(doc, "planDocument")).toBeNull();
  });

  it("plans a libvirt domain XML as the command line libvirt writes for it", async () => {
    // none's rows follow the demand alone: equal rows and devices are an equal plan (the other policies take seconds more on this VM).
    const options = { qemuVersion: "7.2", maxMapCount: 65530, policies: ["none" as const] };
    const fromXml = await plan({ file: join(FIXTURES, "db01.xml") }, options);
    const fromArgs = await plan({ file: join(FIXTURES, "libvirt-q35.args") }, options);
    const rowsOf = (d: PlanDocument) => d.rows.map(({ series: _s, ...r }) => r);
    expect(rowsOf(fromXml)).toEqual(rowsOf(fromArgs));
    expect(fromXml.input.devices).toEqual(fromArgs.input.devices);
    expect(fromXml.input.poolIncrease).toEqual(fromArgs.input.poolIncrease);
  });
});

describe("coropool plan", () => {
  const dir = mkdtempSync(join(tmpdir(), "coropool-plan-"));
  const args = join(dir, "small.args");
  writeFileSync(args, SMALL.map((a) => `'${a}'`).join(" ") + "\n");

  it("prints a document the published schema accepts, the same as plan()", async () => {
    const run = await runMain(["plan", args, "--qemu-version", "7.2", "--max-map-count", "65530", "--json"]);
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout) as PlanDocument;
    expect(schemaProblem(doc, "planDocument")).toBeNull();
    const api = await plan({ file: args }, { qemuVersion: "7.2", maxMapCount: 65530 });
    expect(doc.rows).toEqual(api.rows);
    expect(doc.input).toEqual(api.input);
    expect(doc.input.qemuVersion).toEqual({ value: "7.2", from: "given" });
    expect(doc.input.baselineVmas.value).toBe(627);
    expect(doc.input.baselineVmas.from).toMatch(/^371 \(default: QEMU_BASELINE_VMAS.*\) \+ 256: 2 AioContext\(s\) doing I\/O \(IOThread io0, main loop\) × 64 thread-pool workers × 2 VMAs/);
    // A baseline given is the whole of it.
    const given = await plan({ file: args }, { qemuVersion: "7.2", maxMapCount: 65530, baselineVmas: 500, policies: ["none"] });
    expect(given.baselineVmas).toBe(500);
  });

  it("exits 3 naming where a policy aborts, and writes a trace that replay reruns to the same abort", async () => {
    const trace = join(dir, "small.trace");
    const run = await runMain(["plan", args, "--qemu-version", "7.2", "--max-map-count", "900", "-o", trace]);
    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(/legacy: aborts at line (\d+) of the schedule \(round \d+: .+\): failed to set up stack guard page/);
    const line = Number(/legacy: aborts at line (\d+)/.exec(run.stdout)![1]);
    expect(run.stdout).toContain(`wrote ${trace}`);
    const replayed = await runMain(["replay", trace, "--policy", "legacy", "--max-map-count", "900", "--baseline-vmas", "627"]);
    expect(replayed.code).toBe(3);
    expect(replayed.stdout).toContain(`line ${line}`);
  });

  it("writes a stress scenario where the format can say it, and refuses one naming what it cannot", async () => {
    const iothreadOnly = SMALL.slice(0, 11);
    const file = join(dir, "iothread.args");
    writeFileSync(file, iothreadOnly.map((a) => `'${a}'`).join(" "));
    const scenario = join(dir, "vm.json");
    const ok = await runMain(["plan", file, "--qemu-version", "7.2", "-o", scenario]);
    expect(ok.code).toBe(0);
    const written = JSON.parse(readFileSync(scenario, "utf8"));
    expect(written.guest).toEqual({ iothreads: 1, mainLoop: false, devices: [{ name: "virtio-blk-pci", numQueues: 2, queueSize: 64, iothreads: [0] }] });
    // Real worker threads run it: each IOThread's queues full, as the plan's schedule has them.
    const stressed = await runMain(["stress", "--scenario", scenario, "--policy", "legacy", "--json"]);
    expect(stressed.code).toBe(0);
    const planned = await plan({ file }, { qemuVersion: "7.2", policies: ["legacy"] });
    expect(JSON.parse(stressed.stdout).runs[0].stacks.created).toBe(planned.rows[0]!.peakStacks);
    const vcpus = "qemu-system-x86_64 -smp 2 -drive if=none,id=d0,file=/tmp/d0.img -device virtio-blk-pci,id=vd0,drive=d0,ioeventfd=off";
    const refused = await runMain(["plan", "--cmdline", vcpus, "--qemu-version", "7.2", "-o", join(dir, "no.json")]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(
      "coropool: bad -o scenario for this VM: the stress scenario format cannot express coroutines created in vCPU threads and freed in the main loop (virtio-blk-pci vd0); " +
        "a virtio-blk device in the main loop (virtio-blk-pci vd0): the format adds a device's pool increase only on IOThreads; a VM without IOThreads: the format needs at least one; allowed: -o FILE.trace (the schedule as a trace, which replay reruns)\n",
    );
  });

  it("SIGINT stops a long plan between rounds: exit 130, the document of the rounds so far marked interrupted", async () => {
    // app01 (48 devices) takes some 25 s to plan here: the signal comes long before its end.
    const child = spawn(process.execPath, [CLI, "plan", join(FIXTURES, "app01.xml"), "--qemu-version", "7.2", "--json"], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
    await new Promise((done) => setTimeout(done, 2000));
    child.kill("SIGINT");
    const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    const code = await exited;
    clearTimeout(killer);
    expect(code).toBe(130);
    const doc = JSON.parse(stdout) as PlanDocument;
    expect(doc.interrupted).toBe(true);
    expect(doc.schedule.settled).toBe(false);
    expect(schemaProblem(doc, "planDocument")).toBeNull();
    expect(stderr).toBe("coropool: interrupted by SIGINT: the results so far are printed\n");
  }, 90_000);

  it("refuses bad input with one line naming it", async () => {
    const cases: [string[], RegExp][] = [
      [["plan"], /plan: missing the VM's configuration; allowed: one of FILE, --cmdline/],
      [["plan", args, "--pid", "1"], /FILE and --pid given together/],
      [["plan", args, "--qemu-version", "seven"], /bad --qemu-version seven; allowed: a QEMU version such as 7.2 or 10.0.2/],
      [["plan", "--pid", String(process.pid)], new RegExp(`bad pid ${process.pid}: not a QEMU process \\(its program is [^)]+\\); allowed: the pid of a running QEMU`)],
      [["plan", join(FIXTURES, "not-domain.xml")], /not a domain|<domain>/],
      [["plan", "--cmdline", "qemu-system-x86_64 -device virtio-blk-pci,drive=d0,queue-size=2 -drive if=none,id=d0,file=x"], /queue-size=2; allowed: a power of 2 from 4 to 1024 \(QEMU refuses it\)/],
    ];
    for (const [argv, message] of cases) {
      const run = await runMain(argv);
      expect(run.code, argv.join(" ")).toBe(2);
      expect(run.stdout, argv.join(" ")).toBe("");
      expect(run.stderr.trim().split("\n"), argv.join(" ")).toHaveLength(1);
      expect(run.stderr, argv.join(" ")).toMatch(message);
    }
  });
});
