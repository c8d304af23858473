/**
 * The ceiling a watch shows for a real QEMU 7.2 (TCG, stopped with -S, two
 * virtio-blk disks on small raw images, one in an IOThread, one started in
 * the vCPU): exactly the worst case `coropool plan --pid` gives for that
 * process under its policy, the headroom against the host's limit, as the
 * table, --json (the published schema), the API's watch() and the
 * Prometheus gauges show it; a --policy override takes that policy's row.
 * validate:qemu's plan check (scripts/validate-qemu/plan-check.mjs) on the
 * same QEMU: the same worst case, and a real peak or a pool increase it does
 * not cover is a failure that says which.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { watch } from "../src/index.js";
import { createHostMetrics } from "../src/host/metrics.js";
import { snapshot } from "../src/host/snapshot.js";
import { PLANNING, type WatchedProcess } from "../src/host/watcher.js";
// @ts-expect-error: a plain .mjs script of the project, without type declarations
import { checkPlan, preparePlanCheck, startPlanCheck } from "../scripts/validate-qemu/plan-check.mjs";
import { ROOT, runCli } from "./helpers/cli.js";
import { samples } from "./helpers/watched.js";

const QEMU = "/usr/bin/qemu-system-x86_64";
const SKIP = existsSync(QEMU) ? null : `${QEMU} is not installed`;
if (SKIP !== null) console.warn(`watch ceiling tests skipped: ${SKIP}`);
const describeQemu = SKIP === null ? describe : describe.skip;

const validate = new Ajv2020({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(join(ROOT, "docs", "watch.schema.json"), "utf8")));
const dir = mkdtempSync(join(tmpdir(), "coropool-ceiling-"));
let qemu: ChildProcess | null = null;
let pid = 0;

/** Reads a settle: the VMA count unchanged over this many reads 100 ms apart, within 10 s. */
const STEADY_READS = 5;

beforeAll(async () => {
  if (SKIP !== null) return;
  for (const disk of ["a.raw", "b.raw"]) {
    writeFileSync(join(dir, disk), "");
    truncateSync(join(dir, disk), 1 << 20);
  }
  qemu = spawn(QEMU, [
    "-accel", "tcg", "-display", "none", "-S", "-nodefaults", "-m", "64", "-smp", "2", "-name", "guest=ceiling-test",
    "-object", "iothread,id=io0",
    "-drive", `if=none,id=d0,file=${join(dir, "a.raw")},format=raw`, "-device", "virtio-blk-pci,drive=d0,iothread=io0",
    "-drive", `if=none,id=d1,file=${join(dir, "b.raw")},format=raw`, "-device", "virtio-blk-pci,drive=d1,ioeventfd=off",
  ], { stdio: "ignore" });
  pid = qemu.pid!;
  // The plan reads the VMAs besides the stacks from the process: wait until QEMU has mapped them all.
  let last = -1;
  let same = 0;
  for (let i = 0; i < 100 && same < STEADY_READS; i++) {
    await sleep(100);
    const vmas = snapshot(pid).vmas ?? -1;
    same = vmas === last && vmas > 0 ? same + 1 : 0;
    last = vmas;
  }
  if (same < STEADY_READS) throw new Error(`QEMU pid ${pid} did not settle: ${last} VMAs`);
}, 20_000);

afterAll(() => {
  if (qemu !== null && qemu.exitCode === null && qemu.signalCode === null) qemu.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

interface PlanRowDoc {
  label: string;
  thisQemu: boolean;
  peakStacks: number;
  peakVmas: number;
}

/** plan --pid of the QEMU, made once: it is idle, so every read of it gives the same plan. */
let planned: PlanRowDoc[] | null = null;

function planRows(): PlanRowDoc[] {
  if (planned !== null) return planned;
  const r = runCli(["plan", "--pid", String(pid), "--json"], { timeoutMs: 60_000 });
  expect(r.code, r.stderr).toBe(0);
  planned = (JSON.parse(r.stdout) as { rows: PlanRowDoc[] }).rows;
  return planned;
}

function watchOnce(args: string[]): { maxMapCount: number; processes: WatchedProcess[] } {
  const r = runCli(["watch", String(pid), "--once", "--json", ...args], { timeoutMs: 60_000 });
  expect(r.code, r.stderr).toBe(0);
  const doc = JSON.parse(r.stdout);
  expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
  return doc;
}

describeQemu("a watched QEMU's ceiling", () => {
  it("is the worst case of plan --pid under its policy (legacy for 7.2), with the headroom against max_map_count; --policy takes that policy's row", () => {
    const rows = planRows();
    const legacy = rows.find((r) => r.thisQemu)!;
    expect(legacy.label).toBe("legacy");
    const doc = watchOnce([]);
    const p = doc.processes[0]!;
    expect(p.policy).toBe("legacy");
    expect(p.ceiling).toEqual({ policy: "legacy", stacks: legacy.peakStacks, vmas: legacy.peakVmas, headroom: doc.maxMapCount - legacy.peakVmas });
    expect(p.unplanned).toBeUndefined();
    // This VM's worst case differs by policy: none frees every stack, so an override must take its own row.
    const none = rows.find((r) => r.label === "none")!;
    expect(none.peakVmas).toBeLessThan(legacy.peakVmas);
    const given = watchOnce(["--policy", `${pid}=none`]).processes[0]!;
    expect(given.ceiling).toMatchObject({ policy: "none", stacks: none.peakStacks, vmas: none.peakVmas });
    const table = runCli(["watch", String(pid), "--once"], { timeoutMs: 60_000 });
    expect(table.stdout).toMatch(new RegExp(`^\\s*${pid}\\s+ceiling-test\\s+7\\.2\\.\\d+\\s+legacy\\s.*\\s${legacy.peakVmas}\\s+${doc.maxMapCount - legacy.peakVmas}$`, "m"));
  }, 120_000);

  it("watch(): the first sample says planning and never waits for the plan; a later one has the ceiling, which the gauges serve", async () => {
    const legacy = planRows().find((r) => r.thisQemu)!;
    const ac = new AbortController();
    const seen: WatchedProcess[] = [];
    // Bounded: 150 samples 200 ms apart (30 s), far more than a plan takes.
    for await (const sample of watch({ pids: [pid], intervalMs: 200, signal: ac.signal })) {
      seen.push(sample.processes[0]!);
      if (sample.processes[0]!.ceiling !== null || seen.length >= 150) ac.abort();
    }
    expect(seen[0]).toMatchObject({ ceiling: null, unplanned: PLANNING });
    const last = seen.at(-1)!;
    expect(last.ceiling).toEqual({ policy: "legacy", stacks: legacy.peakStacks, vmas: legacy.peakVmas, headroom: last.maxMapCount - legacy.peakVmas });
    const metrics = createHostMetrics();
    metrics.updateMetrics([last]);
    const got = samples(await metrics.registry.metrics());
    const labels = `{pid="${pid}",vm="ceiling-test",qemu_version="${last.qemuVersion}",policy="legacy"}`;
    expect(got.get(`coropool_qemu_worst_case_vmas${labels}`)).toBe(legacy.peakVmas);
    expect(got.get(`coropool_qemu_worst_case_headroom_ratio${labels}`)).toBe((last.maxMapCount - legacy.peakVmas) / last.maxMapCount);
  }, 120_000);
});

describeQemu("validate:qemu's plan check", () => {
  it("reads the QEMU as plan --pid does: its policy's worst case, the pool increase; a real peak above it or another increase fails, saying which", async () => {
    const legacy = planRows().find((r) => r.thisQemu)!;
    await preparePlanCheck(ROOT);
    // Three reads of the same idle QEMU: each check stops the sampler of its own.
    const check = (given: { sampledPeak: number; poolIncrease: number }) => checkPlan(startPlanCheck(pid), { policy: "legacy", ...given });
    // smp 2: each virtio-blk-pci has 2 queues of 256, so each adds 2 x 256 / 2 to the pool.
    const ok = await check({ sampledPeak: 0, poolIncrease: 512 });
    expect(ok).toMatchObject({ ok: true, text: "ok", row: "legacy", poolIncrease: 512, worstStacks: legacy.peakStacks, worstVmas: legacy.peakVmas });
    expect(ok.realVmas).toBeGreaterThan(0);
    expect(ok.vmasRatio).toBe(legacy.peakVmas / ok.realVmas);
    const over = await check({ sampledPeak: legacy.peakStacks + 1, poolIncrease: 512 });
    expect(over).toMatchObject({ ok: false, text: `worst case ${legacy.peakStacks} stacks < real peak ${legacy.peakStacks + 1}` });
    const other = await check({ sampledPeak: 0, poolIncrease: 256 });
    expect(other).toMatchObject({ ok: false, text: "pool increase 512 != the replay's 256" });
    expect(await checkPlan(startPlanCheck(pid), { policy: "batched", sampledPeak: 0, poolIncrease: 512 })).toEqual({ ok: false, text: expect.stringMatching(/^the plan's policy for QEMU 7\.2\.\d+ is legacy, the harness replays batched \(uncapped\)$/) });
  }, 120_000);
});
