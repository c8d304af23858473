/**
 * The imbalance experiment: one thread bursts, then goes quiet while the
 * others keep needing coroutines; where the stacks end up under each policy.
 */
import type { PolicyName } from "../pools/index.js";
import type { RunResult } from "../runtime/result.js";
import { summarizeImbalance, type ImbalanceSummary } from "../scenarios/imbalance/plan.js";
import type { ImbalanceScenario } from "../scenarios/types.js";
import { scenarioWithThreads } from "../scenarios/registry.js";
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
  const seeded = withSeed(scenario, options);
  const adjusted = options.threads === undefined ? seeded : (scenarioWithThreads(seeded, options.threads) as ImbalanceScenario);
  const results = await runScenarioUnderPolicies("imbalance", adjusted, file, DEFAULT_IMBALANCE_POLICIES, options);
  return {
    command: "imbalance",
    scenarioFile: file,
    scenario: adjusted,
    runs: results.map((r) => ({ ...r, imbalance: summarizeImbalance(adjusted, r) })),
  };
}
