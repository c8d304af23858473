/**
 * The custom experiment: a user's workload module (generator-based
 * coroutines) run on N threads under each policy.
 */
import type { PolicyName } from "../pools/index.js";
import type { RunResult } from "../runtime/result.js";
import { setupFailure } from "../scenarios/custom/part.js";
import { customModulePath } from "../scenarios/custom/rules.js";
import { loadWorkload } from "../scenarios/custom/workload.js";
import type { CustomScenario } from "../scenarios/types.js";
import { withSeed, type ThreadedExperimentOptions } from "./options.js";
import { runScenarioUnderPolicies } from "./run-policies.js";

export const DEFAULT_CUSTOM_POLICIES: PolicyName[] = ["legacy", "batched"];

export interface CustomReport {
  command: "run";
  scenarioFile: string;
  scenario: CustomScenario;
  runs: RunResult[];
}

/**
 * Runs the workload on the scenario's threads (or the options') under each
 * policy. `scenario.module` is relative to `file`'s folder. A module that
 * does not load, or whose coroutines() throws, is an input error.
 */
export async function runCustom(scenario: CustomScenario, file: string, options: ThreadedExperimentOptions): Promise<CustomReport> {
  const adjusted: CustomScenario = { ...withSeed(scenario, options), threads: options.threads ?? scenario.threads };
  const modulePath = customModulePath(adjusted, file);
  await loadWorkload(modulePath); // bad modules are refused here, before any worker starts
  const runs = await runScenarioUnderPolicies("custom", adjusted, file, DEFAULT_CUSTOM_POLICIES, options);
  for (const r of runs) {
    const failure = setupFailure(modulePath, r.parts);
    if (failure) throw failure;
  }
  return { command: "run", scenarioFile: file, scenario: adjusted, runs };
}
