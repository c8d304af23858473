/**
 * The burst-idle experiment: bursts on some threads, a quiet period, then
 * load on the others; what each pool keeps mapped after the burst, over time
 * (the samples) and at the end of each phase.
 */
import { InputError } from "../errors.js";
import type { PolicyName } from "../pools/index.js";
import type { RunResult } from "../runtime/result.js";
import { summarizeBurstIdle, type BurstIdleSummary } from "../scenarios/burst-idle/plan.js";
import type { BurstIdleScenario } from "../scenarios/types.js";
import { MIN_BURST_IDLE_THREADS } from "../scenarios/validate.js";
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
  const adjusted = withThreads(withSeed(scenario, options), options.threads);
  const results = await runScenarioUnderPolicies("burst-idle", adjusted, file, DEFAULT_BURST_IDLE_POLICIES, options);
  return {
    command: "burst-idle",
    scenarioFile: file,
    scenario: adjusted,
    runs: results.map((r) => ({ ...r, burstIdle: summarizeBurstIdle(adjusted, r) })),
  };
}

/** The scenario on `threads` threads: the bursting threads stay as many as fit, leaving one for the load. */
function withThreads(scenario: BurstIdleScenario, threads: number | undefined): BurstIdleScenario {
  if (threads === undefined) return scenario;
  if (threads < MIN_BURST_IDLE_THREADS) {
    throw new InputError("ERR_USAGE", `threads ${threads} is too few for a burst-idle run; allowed: at least ${MIN_BURST_IDLE_THREADS} (threads burst, then others work)`);
  }
  return { ...scenario, threads, burstThreads: Math.min(scenario.burstThreads, threads - 1) };
}
