/** What a workload author writes, and a helper that lets TypeScript infer its types. */
import type { Workload } from "../scenarios/custom/workload.js";

export type { Workload, WorkloadApi, WorkloadSetup } from "../scenarios/custom/workload.js";

/**
 * Returns `workload` unchanged; its only use is typing: the argument type of
 * `coroutine` is inferred from what `coroutines` returns, and the result type
 * from what `coroutine` returns.
 *
 *   export default defineWorkload({
 *     coroutines: ({ options }) => [1, 2, 3],
 *     *coroutine(n, api) { yield; return n * 2; },
 *   });
 */
export function defineWorkload<Arg, Result>(workload: Workload<Arg, Result>): Workload<Arg, Result> {
  return workload;
}
