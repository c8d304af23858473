/**
 * The randread experiment, the seed's benchmark: every cell (block size x
 * iodepth) under every policy, IOPS and latency percentiles per cell.
 */
import type { PolicyName } from "../pools/index.js";
import type { RunResult } from "../runtime/result.js";
import { Runtime } from "../runtime/runtime.js";
import { checkRandreadFeasible, randreadCellLimitMs } from "../scenarios/randread/feasible.js";
import { randreadCases, randreadFigures, type RandreadCase, type RandreadFigures } from "../scenarios/randread/plan.js";
import type { RandreadScenario } from "../scenarios/types.js";
import { scenarioPlans } from "../scenarios/registry.js";
import { runtimeOptionsFor, withSeed, type ThreadedExperimentOptions } from "./options.js";

export const DEFAULT_RANDREAD_SCENARIO = "randread";
/** OLD and NEW of the seed's table. */
export const DEFAULT_RANDREAD_POLICIES: PolicyName[] = ["legacy", "batched"];
/** The one step randread reports progress in: its cells interleave the policies. */
const PROGRESS_STEP = "randread";

export interface RandreadCell extends RandreadCase {
  policy: PolicyName;
  figures: RandreadFigures;
  run: RunResult;
}

export interface RandreadReport {
  command: "randread";
  scenarioFile: string;
  scenario: RandreadScenario;
  policies: PolicyName[];
  cells: RandreadCell[];
}

/**
 * Runs every cell under every policy, the policies interleaved cell by cell
 * so that drift on this shared machine hits them alike. One runtime (worker
 * pool) per policy serves all its cells. The device model has no VMA limit
 * of its own: the options' maxMapCount, else the host's. A plan in which no
 * request could complete within a cell is refused before anything runs; a
 * cell's time limit is, unless the options give one, what the plan's
 * longest cell can take.
 */
export async function runRandread(scenario: RandreadScenario, file: string, options: ThreadedExperimentOptions): Promise<RandreadReport> {
  const adjusted: RandreadScenario = { ...withSeed(scenario, options), threads: options.threads ?? scenario.threads };
  checkRandreadFeasible(adjusted);
  const policies = options.policies ?? DEFAULT_RANDREAD_POLICIES;
  const limited = { ...options, timeoutMs: options.timeoutMs ?? randreadCellLimitMs(adjusted) };
  const runtimes = new Map(policies.map((p) => [p, new Runtime(runtimeOptionsFor(limited, p, adjusted.threads, null))]));
  const cases = randreadCases(adjusted);
  // One plan per cell, in the cases' order (the kinds' registry makes them).
  const plans = scenarioPlans(adjusted, file);
  const total = cases.length * runtimes.size;
  const cells: RandreadCell[] = [];
  try {
    for (const [i, c] of cases.entries()) {
      for (const [policy, runtime] of runtimes) {
        if (options.signal?.aborted) break;
        const run = await runtime.run(plans[i]!);
        cells.push({ ...c, policy, figures: randreadFigures(run), run });
        options.onProgress?.(cells.length, total, PROGRESS_STEP);
      }
    }
  } finally {
    await Promise.all([...runtimes.values()].map((r) => r.close()));
  }
  return { command: "randread", scenarioFile: file, scenario: adjusted, policies, cells };
}
