import type { RunPlan } from "../../runtime/runtime.js";
import type { RunResult } from "../../runtime/result.js";
import type { ImbalanceScenario } from "../types.js";
import { gini, maxOverMean } from "./metrics.js";
import type { ImbalancePart, ImbalancePartResult } from "./part.js";

export function planImbalance(s: ImbalanceScenario): RunPlan {
  const parts: ImbalancePart[] = Array.from({ length: s.threads }, (_, t) => ({
    kind: "imbalance",
    role: t === s.burstThread ? "burst" : "steady",
    burst: s.burst,
    rounds: s.rounds,
    inFlight: s.inFlight,
  }));
  return { parts, poolSizeIncrease: s.poolSizeIncrease, progressUnits: s.threads * s.rounds };
}

/** What an imbalance run shows about a pool design. */
export interface ImbalanceSummary {
  /** Stacks idle in the quiet thread's pool while the others worked. */
  strandedStacks: number;
  /** Stacks the busy threads mapped while those stranded stacks sat idle. */
  newStacksWhileStranded: number;
  /** Per-thread local pools at the end of the busy phase. */
  pooledAtEnd: number[];
  maxOverMean: number;
  gini: number;
  /** Phase 2 (steady cross-thread flow): coroutines created and global-lock acquisitions, all threads. */
  steadyCoroutines: number;
  steadyLockAcquisitions: number;
}

/** What a thread that died reports: nothing. */
const NOTHING: ImbalancePartResult = {
  role: "steady",
  newStacksInPhase2: 0,
  pooledAtPhase2: 0,
  pooledAtEnd: 0,
  coroutinesInPhase2: 0,
  lockAcquisitionsInPhase2: 0,
  requests: 0,
};

export function summarizeImbalance(s: ImbalanceScenario, result: RunResult): ImbalanceSummary {
  const parts = (result.parts as (ImbalancePartResult | null)[]).map((p) => p ?? NOTHING);
  const quiet = parts[s.burstThread]!;
  const strandedStacks = quiet.pooledAtEnd;
  const newInPhase2 = parts.reduce((sum, p, t) => (t === s.burstThread ? sum : sum + p.newStacksInPhase2), 0);
  const pooledAtEnd = parts.map((p) => p.pooledAtEnd);
  return {
    strandedStacks,
    newStacksWhileStranded: strandedStacks > 0 ? newInPhase2 : 0,
    pooledAtEnd,
    maxOverMean: maxOverMean(pooledAtEnd),
    gini: gini(pooledAtEnd),
    steadyCoroutines: parts.reduce((a, p) => a + p.coroutinesInPhase2, 0),
    steadyLockAcquisitions: parts.reduce((a, p) => a + p.lockAcquisitionsInPhase2, 0),
  };
}
