import type { Coroutine } from "../../coroutine/index.js";
import type { ThreadEnv } from "../../runtime/thread-env.js";
import { Thread, Vma } from "../../shared/layout.js";
import { VMAS_PER_STACK } from "../../vma/vma-counter.js";
import { completeAll, submitBurst } from "../requests.js";

/** One thread's share of a burst-idle run. */
export interface BurstIdlePart {
  kind: "burst-idle";
  /** A bursting thread works in phase 1 only; a load thread in phase 3 only. */
  role: "burst" | "load";
  burst: number;
  bursts: number;
  quietMs: number;
  rounds: number;
  inFlight: number;
}

export interface BurstIdlePartResult {
  role: "burst" | "load";
  requests: number;
  /** Stacks mapped in the whole process (read by every thread at the same barrier): after the bursts... */
  mappedAfterBursts: number;
  /** ...after the quiet period... */
  mappedAfterQuiet: number;
  /** ...and after the load, at the end. */
  mappedAtEnd: number;
  /** Stacks this thread mapped during the load. */
  newStacksInLoad: number;
}

/**
 * Phase 1: the bursting threads each have `bursts` bursts in flight and
 * complete them; their stacks land in the pools. Phase 2: nobody runs a
 * coroutine for quietMs (the main thread's sampler keeps ticking: a pool
 * that gives idle stacks back does it now). Phase 3: the other threads run
 * rounds of requests. After each phase every thread reads how many stacks
 * the process has mapped.
 */
export function runBurstIdlePart(env: ThreadEnv, part: BurstIdlePart): BurstIdlePartResult {
  const inFlight: Coroutine[] = [];
  let requests = 0;
  if (part.role === "burst") {
    for (let b = 0; b < part.bursts && !env.aborted(); b++) {
      requests += submitBurst(env, part.burst, inFlight);
      completeAll(env, inFlight);
      env.progress();
    }
  }
  const mappedAfterBursts = phaseEnd(env, "after the bursts");
  sleep(part.quietMs);
  const mappedAfterQuiet = phaseEnd(env, "after the quiet period");
  const createdBefore = env.region.threadWord(env.thread, Thread.STAT_STACKS_CREATED);
  for (let round = 0; round < part.rounds; round++) {
    if (part.role === "load") requests += submitBurst(env, part.inFlight, inFlight);
    completeAll(env, inFlight);
    if (part.role === "load") env.progress();
  }
  const newStacksInLoad = env.region.threadWord(env.thread, Thread.STAT_STACKS_CREATED) - createdBefore;
  const mappedAtEnd = phaseEnd(env, "after the load");
  return { role: part.role, requests, mappedAfterBursts, mappedAfterQuiet, mappedAtEnd, newStacksInLoad };
}

/** Every thread at the same point; then the stacks the process has mapped, from the VMA counter. */
function phaseEnd(env: ThreadEnv, point: string): number {
  env.sync();
  env.phaseDone(point);
  const mapped = (env.region.readU32(Vma.CURRENT) - env.region.readU32(Vma.BASELINE)) / VMAS_PER_STACK;
  // Nobody maps or frees before everyone has read.
  env.sync();
  return Math.floor(mapped);
}

/** A worker thread may block: the quiet period is a plain wait. */
function sleep(ms: number): void {
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
