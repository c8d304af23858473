/**
 * The burst-idle experiment: bursts on some threads, a quiet period, then
 * load on the others; what each pool keeps mapped after the burst, over time
 * (the samples) and at the end of each phase.
 */
import type { PolicyName } from "../pools/index.js";
import type { RunResult } from "../runtime/result.js";
import { summarizeBurstIdle, type BurstIdleSummary } from "../scenarios/burst-idle/plan.js";
import type { BurstIdleScenario } from "../scenarios/types.js";
import { scenarioWithThreads } from "../scenarios/registry.js";
import { withSeed, type ThreadedExperimentOptions } from "./options.js";
import { runScenarioUnderPolicies } from "./run-policies.js";

export const DEFAULT_BURST_IDLE_SCENARIO = "burst-idle";
/** QEMU 9.0's pool against the one that gives idle stacks back. */
export const DEFAULT_BURST_IDLE_POLICIES: PolicyName[] = ["batched", "elastic"];

export interface BurstIdleReport {
  command: "burst-idle";
  scenarioFile: string;
  scenario: BurstIdleScenario;
  runs: (RunResult & { burstIdle: BurstIdleSummary })[];
}

/** Runs the scenario (with the options' seed and threads) under each policy. */
export async function runBurstIdle(scenario: BurstIdleScenario, file: string, options: ThreadedExperimentOptions): Promise<BurstIdleReport> {
  const seeded = withSeed(scenario, options);
  const adjusted = options.threads === undefined ? seeded : (scenarioWithThreads(seeded, options.threads) as BurstIdleScenario);
  const results = await runScenarioUnderPolicies("burst-idle", adjusted, file, DEFAULT_BURST_IDLE_POLICIES, options);
  return {
    command: "burst-idle",
    scenarioFile: file,
    scenario: adjusted,
    runs: results.map((r) => ({ ...r, burstIdle: summarizeBurstIdle(adjusted, r) })),
  };
}
