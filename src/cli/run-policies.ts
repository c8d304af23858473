import type { PolicyName } from "../pools/policy-name.js";
import type { RunResult } from "../runtime/result.js";
import { Runtime, type RunPlan, type RuntimeOptions } from "../runtime/runtime.js";
import { ProgressBar } from "./progress.js";

/**
 * Runs the same plan under each policy, one after another (never at the same
 * time: they would compete for the two cores and skew each other's figures).
 */
export async function runPlanUnderPolicies(
  label: string,
  policies: PolicyName[],
  optionsFor: (policy: PolicyName) => RuntimeOptions,
  plan: RunPlan,
  showProgress: boolean,
): Promise<RunResult[]> {
  const results: RunResult[] = [];
  for (const policy of policies) {
    const bar = new ProgressBar(`${label} (${policy})`, plan.progressUnits ?? 0, showProgress && process.stdout.isTTY === true);
    const runtime = new Runtime({ ...optionsFor(policy), onProgress: (done) => bar.update(done) });
    try {
      results.push(await runtime.run(plan));
    } finally {
      bar.finish();
      await runtime.close();
    }
  }
  return results;
}
