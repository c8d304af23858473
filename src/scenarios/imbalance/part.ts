import type { Coroutine } from "../../coroutine/index.js";
import type { ThreadEnv } from "../../runtime/thread-env.js";
import { Thread } from "../../shared/layout.js";
import { completeAll, submitBurst } from "../requests.js";

/** One thread's share of an imbalance run. */
export interface ImbalancePart {
  kind: "imbalance";
  /** The bursting thread works in phase 1 only; the steady ones in phase 2 only. */
  role: "burst" | "steady";
  burst: number;
  rounds: number;
  inFlight: number;
}

export interface ImbalancePartResult {
  role: "burst" | "steady";
  /** Stacks this thread mapped in phase 2, when the bursting thread sat on its pool. */
  newStacksInPhase2: number;
  /** This thread's local pool at the start of phase 2 (the burst thread's: stranded). */
  pooledAtPhase2: number;
  /** This thread's local pool after the last round, before its thread exit. */
  pooledAtEnd: number;
  /** Coroutines created and global-lock acquisitions by this thread in phase 2: the steady cross-thread flow. */
  coroutinesInPhase2: number;
  lockAcquisitionsInPhase2: number;
  requests: number;
}

/**
 * Phase 1: one thread has a burst in flight and completes it; its stacks land
 * in its pools. Phase 2: that thread goes quiet, the others run rounds of
 * requests. Under legacy the quiet thread keeps its stacks while the others
 * map new ones; under batched the surplus flows through the global pool.
 */
export function runImbalancePart(env: ThreadEnv, part: ImbalancePart): ImbalancePartResult {
  const inFlight: Coroutine[] = [];
  let requests = 0;
  if (part.role === "burst") {
    requests += submitBurst(env, part.burst, inFlight);
    completeAll(env, inFlight);
  }
  env.sync();
  env.phaseDone("after the burst");
  const pooledAtPhase2 = env.policy.localPoolSize(env.thread);
  const createdBefore = stacksCreatedHere(env);
  const getsBefore = word(env, Thread.STAT_GETS);
  const locksBefore = word(env, Thread.STAT_LOCK_ACQUISITIONS);
  for (let round = 0; round < part.rounds; round++) {
    if (part.role === "steady") requests += submitBurst(env, part.inFlight, inFlight);
    env.sync();
    completeAll(env, inFlight);
    env.sync();
    env.progress();
  }
  return {
    role: part.role,
    newStacksInPhase2: stacksCreatedHere(env) - createdBefore,
    pooledAtPhase2,
    pooledAtEnd: env.policy.localPoolSize(env.thread),
    coroutinesInPhase2: word(env, Thread.STAT_GETS) - getsBefore,
    lockAcquisitionsInPhase2: word(env, Thread.STAT_LOCK_ACQUISITIONS) - locksBefore,
    requests,
  };
}

function stacksCreatedHere(env: ThreadEnv): number {
  return word(env, Thread.STAT_STACKS_CREATED);
}

function word(env: ThreadEnv, field: number): number {
  return env.region.threadWord(env.thread, field);
}
