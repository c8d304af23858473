import type { PolicyName } from "../pools/index.js";
import type { RunResult } from "../runtime/result.js";
import { Runtime } from "../runtime/runtime.js";
import { scenarioPlans } from "../scenarios/registry.js";
import type { RandreadScenario, Scenario } from "../scenarios/types.js";
import { runtimeOptionsFor, type ExperimentOptions } from "./options.js";

/** The kinds that ask for one run under each policy (randread asks for one per cell). */
export type SingleRunScenario = Exclude<Scenario, RandreadScenario>;

/**
 * Runs the scenario's plan (the kinds' registry makes it; relative paths
 * resolve from `file`'s folder) under each policy, one after another (never
 * at the same time: they would compete for the two cores and skew each
 * other's figures). The plan's parts set the threads, the scenario its own
 * VMA limit; `experiment` names the steps the progress callback is told of:
 * "<experiment> (<policy>)".
 */
export async function runScenarioUnderPolicies(
  experiment: string,
  scenario: SingleRunScenario,
  file: string,
  defaultPolicies: PolicyName[],
  options: ExperimentOptions,
): Promise<RunResult[]> {
  const [plan] = scenarioPlans(scenario, file);
  const total = plan!.progressUnits || undefined;
  const results: RunResult[] = [];
  for (const policy of options.policies ?? defaultPolicies) {
    if (options.signal?.aborted) break;
    const step = `${experiment} (${policy})`;
    const onProgress = options.onProgress;
    const runtime = new Runtime({
      ...runtimeOptionsFor(options, policy, plan!.parts.length, scenario.maxMapCount),
      ...(onProgress ? { onProgress: (done: number) => onProgress(done, total, step) } : {}),
    });
    try {
      results.push(await runtime.run(plan!));
    } finally {
      await runtime.close();
    }
  }
  return results;
}
