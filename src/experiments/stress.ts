/**
 * The vma-exhaustion experiment on the simulated backend (or in-process real
 * stacks below the host's limit): a guest's IOThreads and main loop have
 * bursts of requests in flight, under each policy in turn. With real stacks
 * up to the real limit, see real-abort.ts.
 */
import type { PolicyName } from "../pools/index.js";
import type { RunResult } from "../runtime/result.js";
import { stressThreadNames } from "../scenarios/stress/plan.js";
import type { StressScenario } from "../scenarios/types.js";
import { withSeed, type ExperimentOptions } from "./options.js";
import { runScenarioUnderPolicies } from "./run-policies.js";

/** The seed's bug report: four IOThreads and the main loop, two devices of 64 queues x 256 entries. */
export const DEFAULT_STRESS_SCENARIO = "bug-report";
export const DEFAULT_STRESS_POLICIES: PolicyName[] = ["legacy", "batched"];

export interface StressReport {
  command: "stress";
  scenarioFile: string;
  scenario: StressScenario;
  threadNames: string[];
  runs: RunResult[];
}

/** Runs the scenario (with the options' seed) under each policy; `file` is where it came from, for the report. */
export async function runStress(scenario: StressScenario, file: string, options: ExperimentOptions): Promise<StressReport> {
  const seeded = withSeed(scenario, options);
  const threadNames = stressThreadNames(seeded);
  const runs = await runScenarioUnderPolicies("stress", seeded, file, DEFAULT_STRESS_POLICIES, options);
  return { command: "stress", scenarioFile: file, scenario: seeded, threadNames, runs };
}
