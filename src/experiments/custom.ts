/**
 * The custom experiment: a user's workload module (generator-based
 * coroutines) run on N threads under each policy.
 */
import { dirname, resolve } from "node:path";
import { InputError } from "../errors.js";
import type { PolicyName } from "../pools/policy-name.js";
import type { RunResult } from "../runtime/result.js";
import type { RunPlan } from "../runtime/runtime.js";
import type { CustomPart, CustomPartResult } from "../scenarios/custom/part.js";
import { loadWorkload } from "../scenarios/custom/workload.js";
import type { CustomScenario } from "../scenarios/types.js";
import { withSeed, type ThreadedExperimentOptions } from "./options.js";
import { runPlanUnderPolicies } from "./run-policies.js";

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
  const modulePath = resolve(dirname(file), adjusted.module);
  await loadWorkload(modulePath); // bad modules are refused here, before any worker starts
  const runs = await runPlanUnderPolicies(
    {
      experiment: "custom",
      plan: customPlan(adjusted, modulePath),
      threads: adjusted.threads,
      scenarioMaxMapCount: adjusted.maxMapCount,
      policies: options.policies ?? DEFAULT_CUSTOM_POLICIES,
    },
    options,
  );
  const setup = runs.flatMap((r) => (r.parts as (CustomPartResult | null)[]).map((p, t) => ({ t, error: p?.setupError })).filter((x) => x.error));
  if (setup.length > 0) {
    throw new InputError("ERR_WORKLOAD", `custom workload '${modulePath}': coroutines() failed on T${setup[0]!.t}: ${setup[0]!.error}; it must return an iterable of arguments`);
  }
  return { command: "run", scenarioFile: file, scenario: adjusted, runs };
}

/** The same part on every thread; each thread reports one unit of progress when its coroutines are done. */
function customPlan(scenario: CustomScenario, modulePath: string): RunPlan {
  const part: CustomPart = { kind: "custom", modulePath, options: scenario.options, seed: scenario.seed };
  return { parts: Array.from({ length: scenario.threads }, () => part), poolSizeIncrease: 0, progressUnits: scenario.threads };
}
