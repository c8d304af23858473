// The runtime commands through the built CLI (dist/src/cli/bin.js, run with
// test/helpers/cli.ts): exit statuses, one JSON document on stdout with
// --json, the seed's table, help, and one-line errors for bad input. Every
// scenario here is a tiny fixture, and every run is bounded in time.
import { spawnSync } from "node:child_process";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { GUARD_PAGE_FAILED, STACK_ALLOC_FAILED } from "../src/errors.js";
import { ROOT, runCli, runMain, type CliRun } from "./helpers/cli.js";

/** Paths relative to the repository, where runCli runs the CLI. */
const FIXTURES = relative(ROOT, join(import.meta.dirname, "fixtures", "scenarios"));
const fixture = (name: string) => join(FIXTURES, name);
const STRESS_SMALL = "scenarios/stress-small.json";
/** Stated, so the outcome does not depend on the CLI process's own VMA count. */
const BASELINE = ["--baseline-vmas", "100"];
const QEMU_ABORT_MESSAGES = [STACK_ALLOC_FAILED, GUARD_PAGE_FAILED];
/**
 * Each run takes well under a second; these bounds keep a hung CLI from
 * holding the file (spawnSync blocks, so vitest's own timeout cannot act).
 */
const RUN = { timeoutMs: 20_000 };
const QUICK = { timeoutMs: 10_000 };
const COMMANDS = ["demo", "replay", "whatif", "import", "stress", "imbalance", "randread", "run"];
const RANDREAD_30MS = ["--scenario", fixture("randread-tiny.json"), "--threads", "1", "--duration-ms", "30"];
const TINY_RANDREAD = [...RANDREAD_30MS, "--iodepths", "1,4", "--block-sizes", "4k"];

/** stdout is exactly one JSON document (a trailing newline allowed). */
function parseJsonOutput(r: CliRun): Record<string, unknown> {
  expect(r.stdout.trim().split("\n")).toHaveLength(1);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

/** The keys a report must have; others (a schema version, say) may be added. */
function expectTopLevelKeys(report: Record<string, unknown>, keys: string[]): void {
  expect(Object.keys(report)).toEqual(expect.arrayContaining(keys));
}

/** Bad input: status 2, nothing on stdout, one line on stderr naming the culprit, no stack trace. */
function expectRefused(r: CliRun, culprit: string | RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stdout).toBe("");
  const lines = r.stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^coropool: /);
  if (typeof culprit === "string") expect(lines[0]).toContain(culprit);
  else expect(lines[0]).toMatch(culprit);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

interface JsonRun {
  policy: string;
  completed: boolean;
  abort: { message: string } | null;
  invariantViolations: string[];
  vmas: { backToBaseline: boolean };
}

describe("coropool stress", () => {
  it("exits 3 when legacy aborts, with one JSON document that says so", () => {
    const r = runCli(["stress", "--scenario", STRESS_SMALL, "--policy", "legacy,batched", ...BASELINE, "--json"], RUN);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe("");
    const report = parseJsonOutput(r);
    expectTopLevelKeys(report, ["command", "scenarioFile", "scenario", "threadNames", "runs"]);
    const runs = report.runs as JsonRun[];
    expect(runs.map((x) => [x.policy, x.completed])).toEqual([["legacy", false], ["batched", true]]);
    expect(QEMU_ABORT_MESSAGES).toContain(runs[0]!.abort!.message);
    expect(runs[1]!.abort).toBeNull();
    for (const run of runs) expect(run.invariantViolations).toEqual([]);
  });

  it("also aborts legacy at this process's own baseline (the command as a user types it)", () => {
    const r = runCli(["stress", "--scenario", STRESS_SMALL, "--policy", "legacy,batched", "--json"], RUN);
    expect(r.code).toBe(3);
    const runs = parseJsonOutput(r).runs as JsonRun[];
    expect(runs[0]!.completed).toBe(false);
    expect(QEMU_ABORT_MESSAGES).toContain(runs[0]!.abort!.message);
  });

  it("exits 0 when only batched runs", () => {
    const r = runCli(["stress", "--scenario", STRESS_SMALL, "--policy", "batched", ...BASELINE, "--json"], RUN);
    expect(r.code).toBe(0);
    const runs = parseJsonOutput(r).runs as JsonRun[];
    expect(runs.map((x) => [x.policy, x.completed, x.vmas.backToBaseline])).toEqual([["batched", true, true]]);
  });

  it("prints the abort in words without --json", () => {
    const r = runCli(["stress", "--scenario", STRESS_SMALL, "--policy", "legacy,batched", ...BASELINE], RUN);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/outcome\s+ABORTED: failed to (allocate memory for stack|set up stack guard page)\s+completed/);
    expect(r.stdout).toMatch(/legacy: iothread\d aborted: failed to (allocate memory for stack|set up stack guard page) \(VMAs \d+ of 5600;/);
  });
});

describe("imbalance, randread and run with --json", () => {
  it("imbalance", () => {
    const r = runCli(["imbalance", "--scenario", fixture("imbalance-exact.json"), ...BASELINE, "--json"], RUN);
    expect(r.code).toBe(0);
    const report = parseJsonOutput(r);
    expectTopLevelKeys(report, ["command", "scenarioFile", "scenario", "runs"]);
    const runs = report.runs as (JsonRun & { imbalance: { strandedStacks: number; newStacksWhileStranded: number } })[];
    // Default policies; figures independent of the interleaving (see runtime-e2e.test.ts).
    expect(runs.map((x) => [x.policy, x.completed, x.imbalance.strandedStacks, x.imbalance.newStacksWhileStranded])).toEqual([
      ["legacy", true, 96, 32],
      ["batched", true, 216, 0],
      ["none", true, 0, 0],
    ]);
  });

  it("randread", () => {
    const r = runCli(["randread", ...TINY_RANDREAD, "--json"], RUN);
    expect(r.code).toBe(0);
    const report = parseJsonOutput(r);
    expectTopLevelKeys(report, ["command", "scenarioFile", "scenario", "policies", "cells"]);
    expect(report.policies).toEqual(["legacy", "batched"]);
    const cells = report.cells as { policy: string; iodepth: number; blockSize: number; run: JsonRun }[];
    expect(cells.map((c) => [c.blockSize, c.iodepth, c.policy, c.run.completed])).toEqual([
      [4096, 1, "legacy", true],
      [4096, 1, "batched", true],
      [4096, 4, "legacy", true],
      [4096, 4, "batched", true],
    ]);
  });

  it("run with a custom workload", () => {
    const r = runCli(["run", fixture("custom-throws.json"), "--policy", "legacy,batched,none", ...BASELINE, "--json", "--allow-failures"], RUN);
    expect(r.code).toBe(0);
    const report = parseJsonOutput(r);
    expectTopLevelKeys(report, ["command", "scenarioFile", "scenario", "runs"]);
    const runs = report.runs as (JsonRun & { parts: { coroutines: number; completed: number; failed: number }[] })[];
    expect(runs.map((x) => x.policy)).toEqual(["legacy", "batched", "none"]);
    for (const run of runs) {
      expect(run.completed).toBe(true);
      expect(run.parts.map((p) => [p.coroutines, p.completed, p.failed])).toEqual([[7, 4, 3], [7, 4, 3]]);
    }
  });

  it("run prints each failed coroutine without --json (exit 4: coroutine bodies threw)", () => {
    const r = runCli(["run", fixture("custom-throws.json"), "--policy", "batched", ...BASELINE], RUN);
    expect(r.code).toBe(4);
    expect(r.stderr).toBe("coropool: 6 coroutine bodies threw (each one is in the result); --allow-failures exits 0 for that\n");
    expect(r.stdout).toContain("batched: T1 coroutine 3 threw: coroutine 3 gave up on T1");
    expect(r.stdout).toContain("batched: T0 coroutine 6 threw: plain string from 6");
  });
});

describe("randread's table", () => {
  it("has the seed's header: RW BLKSIZE IODEPTH OLD NEW CHANGE", () => {
    const r = runCli(["randread", ...TINY_RANDREAD], RUN);
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]!.trim().split(/\s+/)).toEqual(["RW", "BLKSIZE", "IODEPTH", "OLD", "NEW", "CHANGE"]);
    expect(lines[1]).toMatch(/^randread\s+4k\s+1\s+\d+\s+\d+\s+([+-]\d+\.\d%|n\/a)$/);
    expect(lines[2]).toMatch(/^randread\s+4k\s+4\s+\d+\s+\d+\s+([+-]\d+\.\d%|n\/a)$/);
  });
});

describe("randread's block sizes", () => {
  // Block sizes are whole 512-byte sectors, so 3k (3072 bytes) is accepted.
  it("accepts 3k, six sectors", () => {
    const r = runCli(["randread", ...RANDREAD_30MS, "--iodepths", "1", "--block-sizes", "3k", "--policy", "batched", "--json"], RUN);
    expect(r.code).toBe(0);
    const cells = parseJsonOutput(r).cells as { blockSize: number; iodepth: number }[];
    expect(cells.map((c) => [c.blockSize, c.iodepth])).toEqual([[3072, 1]]);
  });
});

describe("help", () => {
  it.each(COMMANDS)("%s --help shows examples and exits 0", (command) => {
    const r = runCli([command, "--help"], QUICK);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: coropool ${command}`);
    expect(r.stdout).toContain("Examples:");
    expect(r.stderr).toBe("");
  });
});

describe("bad input: exit 2, one line on stderr, nothing on stdout", () => {
  it.each([
    ["an unknown flag", ["stress", "--frobnicate"], "--frobnicate"],
    ["an unknown policy in a list", ["imbalance", "--policy", "legacy,fifo"], "bad --policy legacy,fifo (fifo is not allowed)"],
    ["an unknown policy alone", ["stress", "--policy", "fifo"], "bad --policy fifo;"],
    ["0 threads", ["randread", "--threads", "0"], "bad --threads 0;"],
    ["0 threads for imbalance", ["imbalance", "--threads", "0"], "bad --threads 0;"],
    ["iodepth 0", ["randread", "--iodepths", "1,0"], "bad --iodepths 1,0 (0 is not allowed)"],
    // 3k is 3072 bytes, six sectors: valid (see the randread test above).
    ["a block size that is no multiple of 512", ["randread", "--block-sizes", "4k,3000"], "bad --block-sizes 4k,3000 (3000 is not allowed)"],
    ["a block size with an unknown suffix", ["randread", "--block-sizes", "4g"], "bad --block-sizes 4g;"],
    ["a missing scenario file", ["stress", "--scenario", fixture("no-such-scenario.json")], /no-such-scenario\.json: cannot read the scenario file \(no such file\)$/],
    ["a missing scenario for run", ["run", fixture("no-such-scenario.json")], "no-such-scenario.json"],
    ["a randread scenario for stress", ["stress", "--scenario", fixture("randread-tiny.json")], "kind 'randread'"],
    ["a stress scenario for imbalance", ["imbalance", "--scenario", STRESS_SMALL], "kind 'vma-exhaustion'"],
    ["a custom scenario for randread", ["randread", "--scenario", fixture("custom-count.json")], "kind 'custom'"],
  ])("%s", async (_what, args, culprit) => {
    // Through main() in this process: the same code without Node's start per line (the spawned cases below check the real process).
    expectRefused(await runMain(args), culprit);
  });

  it("a custom module that fails to load", () => {
    const r = runCli(["run", fixture("custom-load-fails.json")], QUICK);
    expectRefused(r, /custom workload '.*throws-on-import\.mjs' failed to load: this workload refuses to load$/);
  });

  it("a custom module of the wrong shape", () => {
    const r = runCli(["run", fixture("custom-bad-shape.json")], QUICK);
    expectRefused(r, /not-a-generator\.mjs': 'coroutine' is not a generator function \(function\*\)/);
  });
});

describe("npm start", () => {
  // The whole demo: the seed's bug report (about 65000 VMAs of bookkeeping),
  // imbalance and a short randread table; about 6 s on two cores. The limit is
  // stated because legacy aborts only at Linux's default vm.max_map_count.
  it("runs the demo: legacy aborts with QEMU's message, batched completes", () => {
    const r = spawnSync("npm", ["start", "--silent", "--", "--max-map-count", "65530"], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("failed to");
    expect(r.stdout).toContain("completed");
    expect(r.stdout).toMatch(/outcome\s+ABORTED: failed to (allocate memory for stack|set up stack guard page)\s+completed/);
  }, 70_000);
});
