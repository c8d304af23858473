import type { RunResult } from "../../runtime/result.js";
import type { CustomPartResult } from "./part.js";

/** A custom run's part results, without the threads that died (they have none). */
export function customParts(r: RunResult): CustomPartResult[] {
  return (r.parts as (CustomPartResult | null)[]).filter((p): p is CustomPartResult => p !== null);
}

/** Coroutines, completions, failures and those never started summed over a custom run's threads (a saved result may predate notStarted). */
export function customTotal(r: RunResult, key: "coroutines" | "completed" | "failed" | "notStarted"): number {
  return customParts(r).reduce((a, p) => a + (p[key] ?? 0), 0);
}
