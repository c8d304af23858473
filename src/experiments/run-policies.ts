import type { PolicyName } from "../pools/index.js";
import type { RunResult } from "../runtime/result.js";
import { Runtime, type RunPlan } from "../runtime/runtime.js";
import { runtimeOptionsFor, type ExperimentOptions } from "./options.js";

/** What runs the plan: its threads, the scenario's own VMA limit, and the policies in turn. */
export interface PlanRun {
  /** Names the steps the progress callback is told of: "<experiment> (<policy>)". */
  experiment: string;
  plan: RunPlan;
  threads: number;
  scenarioMaxMapCount: number | null;
  policies: PolicyName[];
}

/**
 * Runs the same plan under each policy, one after another (never at the same
 * time: they would compete for the two cores and skew each other's figures).
 */
export async function runPlanUnderPolicies(run: PlanRun, options: ExperimentOptions): Promise<RunResult[]> {
  const results: RunResult[] = [];
  const total = run.plan.progressUnits || undefined;
  for (const policy of run.policies) {
    if (options.signal?.aborted) break;
    const step = `${run.experiment} (${policy})`;
    const onProgress = options.onProgress;
    const runtime = new Runtime({
      ...runtimeOptionsFor(options, policy, run.threads, run.scenarioMaxMapCount),
      ...(onProgress ? { onProgress: (done: number) => onProgress(done, total, step) } : {}),
    });
    try {
      results.push(await runtime.run(run.plan));
    } finally {
      await runtime.close();
    }
  }
  return results;
}
