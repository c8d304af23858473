/**
 * npm run soak [-- --lifecycles N] [--workers N] [--phases N]
 *
 * At least 10 million coroutine lifecycles across 8 worker threads, the
 * policies one after another, with random bursts, random completion order and
 * thread exits in the middle of the run, and the invariant checker walking
 * the whole shared region at every phase boundary. Prints the totals and
 * every violation; exits 1 if there was one.
 */
import { parseArgs } from "node:util";
import { POLICY_NAMES, type PolicyName } from "../src/pools/index.js";
import type { RunResult } from "../src/runtime/result.js";
import { Runtime } from "../src/runtime/runtime.js";
import type { SoakPart, SoakPartResult } from "../src/scenarios/soak/part.js";

export interface SoakOptions {
  lifecycles: number;
  workers: number;
  phases: number;
  maxBurst: number;
  exitChance: number;
  seed: number;
}

export interface SoakPolicyResult {
  policy: PolicyName;
  lifecycles: number;
  threadExits: number;
  checks: number;
  violations: string[];
  run: RunResult;
}

export const DEFAULT_SOAK: SoakOptions = { lifecycles: 10_500_000, workers: 8, phases: 100, maxBurst: 300, exitChance: 0.002, seed: 1 };

/**
 * Room for every stack the soak can hold (bursts in flight, pools, and what
 * legacy leaks at thread exits): it is about correctness under churn, not the
 * VMA limit. The table is kept this size because the checker walks all of it.
 */
const SOAK_STACK_CAPACITY = 200_000;
const SOAK_MAX_MAP_COUNT = 2 * SOAK_STACK_CAPACITY;

export async function soak(options: SoakOptions, onPolicy?: (r: SoakPolicyResult) => void): Promise<SoakPolicyResult[]> {
  const results: SoakPolicyResult[] = [];
  const perPolicy = Math.ceil(options.lifecycles / POLICY_NAMES.length);
  const perThreadPhase = Math.ceil(perPolicy / options.workers / options.phases);
  for (const policy of POLICY_NAMES) {
    const runtime = new Runtime({
      threads: options.workers,
      policy,
      maxMapCount: SOAK_MAX_MAP_COUNT,
      baselineVmas: 0,
      stackSlots: SOAK_STACK_CAPACITY,
      check: true,
    });
    const part: SoakPart = {
      kind: "soak",
      phases: options.phases,
      lifecyclesPerPhase: perThreadPhase,
      maxBurst: options.maxBurst,
      exitChance: options.exitChance,
      seed: options.seed,
    };
    try {
      const run = await runtime.run({ parts: Array.from({ length: options.workers }, () => part), poolSizeIncrease: 0 });
      const parts = run.parts as SoakPartResult[];
      const result: SoakPolicyResult = {
        policy,
        lifecycles: parts.reduce((a, p) => a + p.lifecycles, 0),
        threadExits: parts.reduce((a, p) => a + p.threadExits, 0),
        checks: run.phaseChecks.length,
        violations: run.phaseChecks.flatMap((c) => c.violations.map((v) => `${c.point}: ${v}`)),
        run,
      };
      results.push(result);
      onPolicy?.(result);
    } finally {
      await runtime.close();
    }
  }
  return results;
}

function describe(r: SoakPolicyResult): string {
  const { run } = r;
  return [
    `${r.policy.padEnd(8)} ${r.lifecycles.toLocaleString("en")} lifecycles in ${(run.durationMs / 1000).toFixed(1)} s`,
    `stacks created ${run.stacks.created}, freed ${run.stacks.freed}, leaked at thread exit ${run.stacks.leaked}`,
    `thread exits ${r.threadExits}, lock acquisitions ${run.lock.acquisitions} (${run.lock.contended} contended)`,
    `invariant checks ${r.checks}, violations ${r.violations.length}`,
    `VMAs peak ${run.vmas.peak}, final ${run.vmas.final} (baseline ${run.vmas.baseline}${run.stacks.leaked ? ` + 2 x ${run.stacks.leaked} leaked` : ""})`,
    `dead threads ${run.deadThreads.length}`,
  ].join("; ");
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { lifecycles: { type: "string" }, workers: { type: "string" }, phases: { type: "string" } },
    strict: true,
  });
  const options: SoakOptions = {
    ...DEFAULT_SOAK,
    ...(values.lifecycles ? { lifecycles: Number(values.lifecycles) } : {}),
    ...(values.workers ? { workers: Number(values.workers) } : {}),
    ...(values.phases ? { phases: Number(values.phases) } : {}),
  };
  for (const [k, v] of Object.entries(options)) {
    if (!(Number.isFinite(v) && v >= 0)) {
      process.stderr.write(`soak: bad value for --${k}: '${v}'; allowed: a non-negative number\n`);
      return 2;
    }
  }
  const started = Date.now();
  process.stdout.write(`soak: ${options.lifecycles.toLocaleString("en")} lifecycles on ${options.workers} workers, ${options.phases} checked phases per policy\n`);
  const results = await soak(options, (r) => process.stdout.write(describe(r) + "\n"));
  const violations = results.flatMap((r) => r.violations.map((v) => `${r.policy}: ${v}`));
  const total = results.reduce((a, r) => a + r.lifecycles, 0);
  process.stdout.write(`total: ${total.toLocaleString("en")} lifecycles in ${((Date.now() - started) / 1000).toFixed(1)} s, ${violations.length} violations\n`);
  for (const v of violations) process.stdout.write(`VIOLATION ${v}\n`);
  const broken = results.some((r) => r.run.deadThreads.length > 0 || r.run.invariantViolations.length > 0);
  return violations.length > 0 || broken ? 1 : 0;
}

if (process.argv[1]?.endsWith("soak.js") === true) {
  main().then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      process.stderr.write(`soak: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
