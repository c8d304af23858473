import type { RunPlan } from "../../runtime/runtime.js";
import type { RunResult } from "../../runtime/result.js";
import { BATCH_MAX_SIZE, LOCAL_BATCHES_MAX } from "../../pools/batched.js";
import type { BurstIdleScenario } from "../types.js";
import type { BurstIdlePart, BurstIdlePartResult } from "./part.js";

export function planBurstIdle(s: BurstIdleScenario): RunPlan {
  const parts: BurstIdlePart[] = Array.from({ length: s.threads }, (_, t) => ({
    kind: "burst-idle",
    role: t < s.burstThreads ? "burst" : "load",
    burst: s.burst,
    bursts: s.bursts,
    quietMs: s.quietMs,
    rounds: s.rounds,
    inFlight: s.inFlight,
  }));
  const loadThreads = s.threads - s.burstThreads;
  return { parts, poolSizeIncrease: s.poolSizeIncrease, progressUnits: s.burstThreads * s.bursts + loadThreads * s.rounds };
}

/** What a burst-idle run shows about a pool design. */
export interface BurstIdleSummary {
  /** Stacks mapped in the process after the bursts, after the quiet period, and at the end. */
  mappedAfterBursts: number;
  mappedAfterQuiet: number;
  mappedAtEnd: number;
  /** What a pool that keeps only a working set may keep: (2 × threads + 1) batches. */
  workingSetBound: number;
  /** Stacks the load threads mapped after the quiet period. */
  newStacksInLoad: number;
}

export function summarizeBurstIdle(s: BurstIdleScenario, result: RunResult): BurstIdleSummary {
  const parts = (result.parts as (BurstIdlePartResult | null)[]).filter((p) => p !== null);
  // Every thread read the same counters at the same barriers: any one's figures are the run's.
  const first = parts[0];
  return {
    mappedAfterBursts: first?.mappedAfterBursts ?? 0,
    mappedAfterQuiet: first?.mappedAfterQuiet ?? 0,
    mappedAtEnd: first?.mappedAtEnd ?? 0,
    workingSetBound: (LOCAL_BATCHES_MAX * s.threads + 1) * BATCH_MAX_SIZE,
    newStacksInLoad: parts.reduce((a, p) => a + p.newStacksInLoad, 0),
  };
}
