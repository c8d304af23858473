/**
 * The custom experiment: a user's workload module (generator-based
 * coroutines) run on N threads under each policy.
 */
import type { PolicyName } from "../pools/index.js";
import type { RunResult } from "../runtime/result.js";
import { setupFailure } from "../scenarios/custom/part.js";
import { customModulePath } from "../scenarios/custom/rules.js";
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
 * policy. `scenario.module` is relative to `file`'s folder. The workers import
 * the module (never the main thread, which a module's endless top level would
 * freeze), inside each run's time limit. A module that does not load, or
 * whose coroutines() throws, is an input error, thrown after the first run
 * that shows it, with that run's workers stopped and no further run started.
 */
export async function runCustom(scenario: CustomScenario, file: string, options: ThreadedExperimentOptions): Promise<CustomReport> {
  const adjusted: CustomScenario = { ...withSeed(scenario, options), threads: options.threads ?? scenario.threads };
  const modulePath = customModulePath(adjusted, file);
  const runs: RunResult[] = [];
  for (const policy of options.policies ?? DEFAULT_CUSTOM_POLICIES) {
    const [run] = await runScenarioUnderPolicies("custom", adjusted, file, [policy], { ...options, policies: [policy] });
    if (run === undefined) break; // the signal fired before this policy started
    const failure = setupFailure(modulePath, run.parts);
    if (failure) throw failure;
    runs.push(run);
  }
  return { command: "run", scenarioFile: file, scenario: adjusted, runs };
}
