/**
 * The imbalance experiment: one thread bursts, then goes quiet while the
 * others keep needing coroutines; where the stacks end up under each policy.
 */
import { InputError } from "../errors.js";
import type { PolicyName } from "../pools/index.js";
import type { RunResult } from "../runtime/result.js";
import { summarizeImbalance, type ImbalanceSummary } from "../scenarios/imbalance/plan.js";
import type { ImbalanceScenario } from "../scenarios/types.js";
import { MIN_IMBALANCE_THREADS } from "../scenarios/validate.js";
import { withSeed, type ThreadedExperimentOptions } from "./options.js";
import { runScenarioUnderPolicies } from "./run-policies.js";

export const DEFAULT_IMBALANCE_SCENARIO = "imbalance";
export const DEFAULT_IMBALANCE_POLICIES: PolicyName[] = ["legacy", "batched", "none"];

export interface ImbalanceReport {
  command: "imbalance";
  scenarioFile: string;
  scenario: ImbalanceScenario;
  runs: (RunResult & { imbalance: ImbalanceSummary })[];
}

/** Runs the scenario (with the options' seed and threads) under each policy. */
export async function runImbalance(scenario: ImbalanceScenario, file: string, options: ThreadedExperimentOptions): Promise<ImbalanceReport> {
  const adjusted = withThreads(withSeed(scenario, options), options.threads);
  const results = await runScenarioUnderPolicies("imbalance", adjusted, file, DEFAULT_IMBALANCE_POLICIES, options);
  return {
    command: "imbalance",
    scenarioFile: file,
    scenario: adjusted,
    runs: results.map((r) => ({ ...r, imbalance: summarizeImbalance(adjusted, r) })),
  };
}

/**
 * The scenario on `threads` threads. One thread bursts and at least one
 * other works, so fewer than two is refused; a bursting thread that is no
 * longer there becomes T0.
 */
function withThreads(scenario: ImbalanceScenario, threads: number | undefined): ImbalanceScenario {
  if (threads === undefined) return scenario;
  if (threads < MIN_IMBALANCE_THREADS) {
    throw new InputError("ERR_USAGE", `threads ${threads} is too few for an imbalance run; allowed: at least ${MIN_IMBALANCE_THREADS} (one thread bursts, the others work)`);
  }
  return { ...scenario, threads, burstThread: scenario.burstThread < threads ? scenario.burstThread : 0 };
}
