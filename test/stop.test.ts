/**
 * Stopping a run: an AbortSignal (Ctrl-C in the CLI), a time limit or a
 * callback that throws. Every stop accounts for every stack, never cuts a
 * pool operation in half, says so in the document, and a failed accounting
 * is never hidden behind an interrupt's exit status.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv2020 from "ajv/dist/2020.js";
import { afterEach, describe, expect, it } from "vitest";
import { run, startRuntime, type RunResult } from "../src/index.js";
import { EXIT, exitCodeFor, finalStatus, runsVerdict } from "../src/cli/exit.js";
import { interruptedStatus } from "../src/cli/interrupt.js";
import { Runtime, type RunPlan } from "../src/runtime/runtime.js";
import type { StressPart } from "../src/scenarios/stress/part.js";
import { ROOT } from "./helpers/cli.js";

const BASELINE = 100;
const COUNT = join(ROOT, "test", "fixtures", "workloads", "count.mjs");
const ajv = new Ajv2020.default({ allErrors: true, strict: false });
const validResult = ajv.compile(JSON.parse(readFileSync(join(ROOT, "docs", "result.schema.json"), "utf8")));

const runtimes: Runtime[] = [];
afterEach(async () => {
  await Promise.all(runtimes.splice(0).map((r) => r.close()));
});

/** One thread with bursts of requests in flight, round after round: it maps stacks all the time. */
function oneThreadPlan(rounds: number, burst: number): RunPlan {
  const part: StressPart = { kind: "vma-exhaustion", inFlightPerRound: Array.from({ length: rounds }, () => burst) };
  return { parts: [part], poolSizeIncrease: 0 };
}

describe("a stop that lands in the middle of a pool operation", () => {
  // T0 sleeps inside its 40th stack mapping, with the mapping's first VMA
  // counted and its stack not yet live. The run is stopped then (seen from
  // the main thread as an odd VMA count, held for two samples in a row):
  // terminated there, the thread would leave one VMA counted for no stack
  // and a slot on no list.
  for (const policy of ["batched", "legacy"] as const) {
    it(`${policy}: the thread is stopped at its next safe point, so every stack is accounted for`, async () => {
      const controller = new AbortController();
      let oddSamples = 0;
      const runtime = new Runtime({
        threads: 1,
        policy,
        maxMapCount: 100_000,
        baselineVmas: BASELINE,
        testHooks: { stallInMapping: { thread: 0, mapping: 40, ms: 400 } },
        signal: controller.signal,
        onSample: (s) => {
          oddSamples = (s.vmas - BASELINE) % 2 === 1 ? oddSamples + 1 : 0;
          if (oddSamples === 2) controller.abort();
        },
      });
      runtimes.push(runtime);
      const r = await runtime.run(oneThreadPlan(1000, 300));
      expect(controller.signal.aborted).toBe(true);
      expect(r.interrupted).toBe(true);
      expect(r.completed).toBe(false);
      expect(r.invariantViolations).toEqual([]);
      expect(r.vmas.final).toBe(BASELINE);
      expect(r.deadThreads).toHaveLength(1);
      expect(r.deadThreads[0]).toMatchObject({ thread: 0, reason: "interrupted before it finished; its worker was terminated" });
      // The stalled mapping completed: its stack was live when the thread parked, and was reclaimed with the others.
      expect(r.deadThreads[0]!.reclaimedLive).toBeGreaterThanOrEqual(1);
      expect(r.stacks.created).toBe(r.stacks.freed);
    });
  }
});

describe("an interrupted run's document (library as CLI)", () => {
  it("an AbortSignal already aborted: nothing runs, and the document says interrupted", async () => {
    const controller = new AbortController();
    controller.abort();
    const doc = await run("stress-small", { policies: ["batched"], baselineVmas: BASELINE, signal: controller.signal });
    expect(doc.interrupted).toBe(true);
    expect((doc as { runs: RunResult[] }).runs).toEqual([]);
    expect(Object.keys(doc).at(-1)).toBe("interrupted");
    expect(validResult(doc), JSON.stringify(validResult.errors)).toBe(true);
  });

  it("stopped early (before or as its threads start): interrupted, not completed, every thread reported", async () => {
    const controller = new AbortController();
    // The first progress call comes 100 ms into the run, usually before every worker has started.
    const doc = await run("stress-small", { policies: ["batched", "legacy"], baselineVmas: BASELINE, signal: controller.signal, onProgress: () => controller.abort() });
    expect(doc.interrupted).toBe(true);
    const runs = (doc as { runs: RunResult[] }).runs;
    expect(runs).toHaveLength(1);
    const r = runs[0]!;
    expect(r).toMatchObject({ interrupted: true, completed: false, timedOut: false });
    expect(r.deadThreads.map((d) => d.thread)).toEqual([0, 1, 2, 3]);
    for (const d of r.deadThreads) expect(d.reason).toMatch(/^interrupted before it (started|finished; its worker was terminated)$/);
    expect(r.invariantViolations).toEqual([]);
    expect(r.vmas.final).toBe(BASELINE);
    expect(validResult(doc), JSON.stringify(validResult.errors)).toBe(true);
  });

  it("startRuntime: a run with an aborted signal starts nothing and says so; the runtime goes on", async () => {
    const runtime = await startRuntime({ threads: 2, policy: "batched", baselineVmas: BASELINE, maxMapCount: 100_000 });
    try {
      const controller = new AbortController();
      controller.abort();
      const stopped = await runtime.run(COUNT, { options: { coroutines: 5, hops: 1 }, signal: controller.signal });
      expect(stopped).toMatchObject({ interrupted: true, timedOut: false, coroutines: 0, completed: 0 });
      expect(stopped.deadThreads).toEqual([
        { thread: 0, reason: "interrupted before it started", reclaimedFromPool: 0, reclaimedLive: 0 },
        { thread: 1, reason: "interrupted before it started", reclaimedFromPool: 0, reclaimedLive: 0 },
      ]);
      const next = await runtime.run(COUNT, { options: { coroutines: 5, hops: 1 } });
      expect(next).toMatchObject({ interrupted: false, coroutines: 10, completed: 10, deadThreads: [] });
    } finally {
      const closed = await runtime.close();
      expect(closed.invariantViolations).toEqual([]);
      expect(closed.vmas.backToBaseline).toBe(true);
    }
  });
});

describe("a callback that throws", () => {
  it("onProgress: the run rejects with what it threw (catchable around await run()), its workers stopped", async () => {
    const boom = new Error("progress display broke");
    await expect(
      run("stress-small", {
        policies: ["batched"],
        baselineVmas: BASELINE,
        onProgress: () => {
          throw boom;
        },
      }),
    ).rejects.toBe(boom);
  });

  it("onSample on a later sample: the same", async () => {
    let samples = 0;
    const boom = new Error("sample sink broke");
    const onSample = () => {
      if (++samples === 20) throw boom;
    };
    await expect(run("stress-small", { policies: ["batched"], baselineVmas: BASELINE, onSample })).rejects.toBe(boom);
  });

  it("the caller's process survives it and then exits by itself", () => {
    const script = `
      const { run } = await import(${JSON.stringify(join(ROOT, "dist", "src", "index.js"))});
      try {
        await run("stress-small", { policies: ["batched"], baselineVmas: 100, onProgress: () => { throw new Error("boom"); } });
        console.log("resolved");
      } catch (e) {
        console.log("caught " + e.message);
      }`;
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 30_000 });
    expect(child.stderr).toBe("");
    expect(child.stdout).toBe("caught boom\n");
    expect(child.status).toBe(0);
  });
});

describe("the exit status of a failed accounting", () => {
  const clean = { completed: true, deadThreads: [], timedOut: false, phaseChecks: [{ point: "after shutdown", violations: [] }], crossCheckMismatches: [] };
  const broken = { ...clean, completed: false, deadThreads: [{}], phaseChecks: [{ point: "after shutdown", violations: ["the VMA counter says 181 but baseline + 2 x 0 stacks = 180"] }] };

  it("is 1 (a bug), before a dead thread's 5, and stands over an interrupt's 130/143 and a report's 6", () => {
    expect(exitCodeFor([clean])).toBe(EXIT.OK);
    expect(exitCodeFor([clean, broken])).toBe(EXIT.INTERNAL);
    expect(exitCodeFor([{ ...clean, crossCheckMismatches: ["after shutdown: counted 5, expected 7"] }])).toBe(EXIT.INTERNAL);
    expect(finalStatus(EXIT.INTERNAL, true, interruptedStatus("SIGINT"))).toBe(EXIT.INTERNAL);
    expect(finalStatus(EXIT.THREAD_DIED, false, interruptedStatus("SIGINT"))).toBe(EXIT.INTERRUPTED_SIGINT);
    expect(finalStatus(EXIT.THREAD_DIED, false, interruptedStatus("SIGTERM"))).toBe(EXIT.INTERRUPTED_SIGTERM);
    expect(finalStatus(EXIT.THREAD_DIED, true, null)).toBe(EXIT.REPORT_FAILED);
    expect(finalStatus(EXIT.VMA_ABORT, false, null)).toBe(EXIT.VMA_ABORT);
  });

  it("comes with one stderr line that says what failed", () => {
    const r = { ...broken, policy: "batched", interrupted: true, durationMs: 1, crossCheckMismatches: [] } as unknown as RunResult;
    expect(runsVerdict([r])).toEqual({
      exitCode: EXIT.INTERNAL,
      stderr: "batched: the stacks were not all accounted for (a bug): invariant violated after shutdown: the VMA counter says 181 but baseline + 2 x 0 stacks = 180",
    });
  });
});
