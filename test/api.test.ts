/**
 * The public API (src/index.ts) as a program meets it: the same documents and
 * results as the CLI's --json for the same inputs, bad input as InputErrors
 * with the CLI's one-line messages, runs stopped by an AbortSignal, and the
 * hosted runtime's life (runs that share the pools, live counters, close).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import Ajv2020 from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { CoropoolError, defineWorkload, InputError, renderReport, replay, run, startRuntime, type RunResult } from "../src/index.js";
import { ROOT, runCli } from "./helpers/cli.js";

const FIXTURES = join(ROOT, "test", "fixtures");
const COUNT = join(FIXTURES, "workloads", "count.mjs");
const NEVER_YIELDS = join(FIXTURES, "reliability", "never-yields.mjs");
const EXACT = join(FIXTURES, "scenarios", "imbalance-exact.json");
const ORACLE_TRACE = join(FIXTURES, "oracle", "traces", "sample-02.trace");
const BASELINE = 500;

const ajv = new Ajv2020.default({ allErrors: true, strict: false });
const validResult = ajv.compile(JSON.parse(readFileSync(join(ROOT, "docs", "result.schema.json"), "utf8")));

/** What of a run does not depend on timing: the figures an exact scenario fixes. */
function exactFigures(r: RunResult) {
  return { policy: r.policy, completed: r.completed, stacks: r.stacks, peak: r.vmas.peak, final: r.vmas.final, perThread: r.perThread.map((t) => t.stacksCreated) };
}

describe("run()", () => {
  it("gives the document `coropool run --json` prints, for a file, figure for figure", async () => {
    const doc = await run(EXACT, { policies: ["legacy", "batched"], baselineVmas: BASELINE });
    const cli = runCli(["run", EXACT, "--policy", "legacy,batched", "--baseline-vmas", String(BASELINE), "--json"]);
    expect(cli.code).toBe(0);
    const printed = JSON.parse(cli.stdout);
    expect(validResult(doc), JSON.stringify(validResult.errors)).toBe(true);
    expect(doc.command).toBe(printed.command);
    expect(doc.schemaVersion).toBe(printed.schemaVersion);
    expect(doc.scenario).toEqual(printed.scenario);
    const runs = (d: { runs: RunResult[] }) => d.runs.map(exactFigures);
    expect(runs(doc as { runs: RunResult[] })).toEqual(runs(printed));
    expect((doc as { runs: RunResult[] }).runs.map((r) => r.policy)).toEqual(["legacy", "batched"]);
  });

  it("takes a bundled scenario's name, as the CLI does", async () => {
    const doc = await run("imbalance", { policies: ["none"], threads: 2, baselineVmas: BASELINE });
    expect(doc.command).toBe("imbalance");
    expect(doc.scenarioFile).toBe(join(ROOT, "scenarios", "imbalance.json"));
  });

  it("runs a scenario object with a custom workload given as a URL, with progress and samples", async () => {
    const progress: { done: number; total: number | undefined; step: string }[] = [];
    let samples = 0;
    const doc = await run(
      { kind: "custom", module: pathToFileURL(COUNT), threads: 2, options: { coroutines: 40, hops: 3 } },
      { policies: ["batched"], baselineVmas: BASELINE, onProgress: (done, total, step) => progress.push({ done, total, step }), onSample: () => samples++ },
    );
    expect(doc.command).toBe("run");
    expect(doc.scenarioFile).toBe("(scenario object)");
    expect(validResult(doc), JSON.stringify(validResult.errors)).toBe(true);
    const [r] = (doc as { runs: RunResult[] }).runs;
    expect(r!.parts.map((p) => (p as { completed: number }).completed)).toEqual([40, 40]);
    expect(r!.stacks.created - r!.stacks.freed).toBe(r!.stacks.liveAtEnd);
    expect(r!.vmas.backToBaseline).toBe(true);
    expect(samples).toBeGreaterThan(0);
    // Reported every 100 ms while the run lasts (so maybe never): each report counts finished parts of this run, never back.
    for (const [i, p] of progress.entries()) {
      expect(p).toMatchObject({ total: 2, step: "custom (batched)" });
      expect([0, 1, 2]).toContain(p.done);
      expect(p.done).toBeGreaterThanOrEqual(progress[i - 1]?.done ?? 0);
    }
  });

  it("refuses a bad scenario object before anything runs, with one line naming the field", async () => {
    const err = await run({ kind: "custom", module: COUNT, threads: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).code).toBe("ERR_SCENARIO");
    expect((err as Error).message).toMatch(/^\(scenario object\): .*threads.*allowed/);
    expect((err as Error).message).not.toContain("\n");
  });

  it("refuses a name nothing has, listing the bundled names (the CLI's words)", async () => {
    const err = (await run("no-such-scenario").catch((e: unknown) => e)) as InputError;
    expect(err.code).toBe("ERR_USAGE");
    expect(err.message).toContain("'no-such-scenario' is no bundled scenario and no file");
    expect(err.message).toContain("bug-report");
  });

  it("an AbortSignal stops the run going on: interrupted, every stack accounted for, no further policy started", async () => {
    const controller = new AbortController();
    // Stop once T1 is inside the coroutine that never yields back.
    const stopWhenStuck = (sample: { liveThreads: number[] }) => {
      if ((sample.liveThreads[1] ?? 0) > 0 && !controller.signal.aborted) setTimeout(() => controller.abort(), 50);
    };
    const doc = await run(
      { kind: "custom", module: NEVER_YIELDS, threads: 2 },
      { policies: ["legacy", "batched"], baselineVmas: BASELINE, signal: controller.signal, onSample: stopWhenStuck, timeoutMs: 20_000 },
    );
    const runs = (doc as { runs: RunResult[] }).runs;
    expect(runs).toHaveLength(1);
    const r = runs[0]!;
    expect(r.interrupted).toBe(true);
    expect(r.timedOut).toBe(false);
    expect(r.completed).toBe(false);
    expect(r.deadThreads.map((d) => d.thread)).toContain(1);
    expect(r.deadThreads.every((d) => d.reason.startsWith("interrupted"))).toBe(true);
    expect(r.invariantViolations).toEqual([]);
    expect(r.vmas.backToBaseline).toBe(true);
    expect(validResult(doc), JSON.stringify(validResult.errors)).toBe(true);
  });
});

describe("replay()", () => {
  const options = { policies: ["legacy", "batched", "none"] as const, maxMapCount: 65530, baselineVmas: 1000 };

  it("gives the results `coropool replay --json` prints", async () => {
    const results = await replay(ORACLE_TRACE, { ...options, policies: [...options.policies] });
    const cli = runCli(["replay", ORACLE_TRACE, "--policy", "legacy,batched,none", "--max-map-count", "65530", "--baseline-vmas", "1000", "--json"]);
    expect(cli.code).toBe(0);
    expect(JSON.stringify(results)).toBe(cli.stdout.trim());
  });

  it("takes the trace as lines, sync or async, with the same results", async () => {
    const lines = readFileSync(ORACLE_TRACE, "utf8").split("\n");
    const fromFile = await replay(ORACLE_TRACE, { ...options, policies: ["batched"] });
    expect(await replay(lines, { ...options, policies: ["batched"] })).toEqual(fromFile);
    async function* asyncLines() {
      for (const line of lines) yield line;
    }
    expect(await replay(asyncLines(), { ...options, policies: ["batched"] })).toEqual(fromFile);
  });

  it("names the bad line of a trace", async () => {
    const err = (await replay(["threads 1", "create T0 a", "fly T0 a"], { policies: ["legacy"] }).catch((e: unknown) => e)) as InputError;
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toBe("trace:3: unknown event 'fly'; allowed: threads, inc, dec, create, terminate, exit");
  });
});

describe("startRuntime()", () => {
  it("runs a workload twice on the same pools, reads live counters, closes clean; closing twice is harmless", async () => {
    const runtime = await startRuntime({ threads: 2, policy: "batched", baselineVmas: BASELINE });
    const first = await runtime.run(COUNT, { options: { coroutines: 100, hops: 2 } });
    expect(first.coroutines).toBe(200);
    expect(first.completed).toBe(200);
    expect(first.stacks.created).toBe(200);
    const between = runtime.stats();
    expect(between.runs).toBe(1);
    expect(between.stacks.live).toBe(0);
    // What the first run gave back stays pooled: created - freed = live + pooled.
    expect(between.stacks.created - between.stacks.freed).toBe(between.stacks.live + between.stacks.pooled);
    expect(between.stacks.pooled).toBeGreaterThan(0);
    expect(between.vmas.current).toBe(BASELINE + 2 * between.stacks.pooled);

    const second = await runtime.run(pathToFileURL(COUNT), { options: { coroutines: 100, hops: 2 } });
    expect(second.completed).toBe(200);
    expect(second.stacks.created).toBeLessThan(first.stacks.created);
    expect(second.stacks.created).toBe(200 - Math.min(200, between.stacks.pooled));

    const closed = await runtime.close();
    expect(closed.runs).toBe(2);
    expect(closed.invariantViolations).toEqual([]);
    expect(closed.vmas.backToBaseline).toBe(true);
    expect(closed.stacks.created).toBe(closed.stacks.freed);
    expect(runtime.closed).toBe(true);
    expect(await runtime.close()).toBe(closed);
    const err = (await runtime.run(COUNT).catch((e: unknown) => e)) as CoropoolError;
    expect(err.code).toBe("ERR_RUNTIME_CLOSED");
    expect(() => runtime.stats()).toThrow(/closed/);
  });

  it("reads the counters while a run goes on", async () => {
    const runtime = await startRuntime({ threads: 2, policy: "legacy", baselineVmas: BASELINE });
    try {
      let mostLive = 0;
      const poll = setInterval(() => (mostLive = Math.max(mostLive, runtime.stats().stacks.live)), 1);
      const r = await runtime.run(COUNT, { options: { coroutines: 3000, hops: 30 } });
      clearInterval(poll);
      expect(r.completed).toBe(6000);
      expect(mostLive).toBeGreaterThan(0);
      expect(mostLive).toBeLessThanOrEqual(6000);
    } finally {
      await runtime.close();
    }
  });

  it("after VMA exhaustion takes no more runs, and closing still accounts for everything", async () => {
    const runtime = await startRuntime({ threads: 1, policy: "none", maxMapCount: BASELINE + 20, baselineVmas: BASELINE });
    const r = await runtime.run(COUNT, { options: { coroutines: 50, hops: 1 } });
    expect(r.abort?.message).toBe("failed to allocate memory for stack");
    const err = (await runtime.run(COUNT, { options: { coroutines: 1, hops: 1 } }).catch((e: unknown) => e)) as CoropoolError;
    expect(err.code).toBe("ERR_RUNTIME_ABORTED");
    const closed = await runtime.close();
    expect(closed.invariantViolations).toEqual([]);
  });

  it("refuses bad options and bad workloads with one line", async () => {
    await expect(startRuntime({ threads: 0, policy: "batched" })).rejects.toThrow("bad threads 0; allowed: an integer from 1 to 64");
    await expect(startRuntime({ threads: 1, policy: "fifo" as "batched" })).rejects.toThrow(/^bad policy "fifo"; allowed: legacy, batched, none/);
    const runtime = await startRuntime({ threads: 1, policy: "batched", baselineVmas: BASELINE });
    try {
      const err = (await runtime.run(join(FIXTURES, "workloads", "throws-on-import.mjs")).catch((e: unknown) => e)) as InputError;
      expect(err.code).toBe("ERR_WORKLOAD");
    } finally {
      await runtime.close();
    }
  });
});

describe("the rest of the surface", () => {
  it("defineWorkload returns the workload itself", () => {
    const w = { coroutines: () => [1, 2], *coroutine(n: number) { yield; return n * 2; } };
    expect(defineWorkload(w)).toBe(w);
  });

  it("renderReport draws a run's document as a whole HTML page", async () => {
    const doc = await run(EXACT, { policies: ["batched"], baselineVmas: BASELINE });
    const html = renderReport(doc);
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    expect(html).toContain("</html>");
    expect(html).toContain("batched");
  });
});
