import type { Coroutine } from "../../coroutine/index.js";
import type { ThreadEnv } from "../../runtime/thread-env.js";
import { completeAll, submitBurst } from "../requests.js";

/** One thread's share of a vma-exhaustion run: its burst size in each round. */
export interface StressPart {
  kind: "vma-exhaustion";
  inFlightPerRound: number[];
}

export interface StressPartResult {
  requests: number;
  peakInFlight: number;
  roundsRun: number;
}

/**
 * Each round every thread puts its burst in flight, all threads wait until
 * every burst is in flight (the peak), then complete them. Stacks return to
 * the pools of the threads that ran them, which is where legacy strands them.
 */
export function runStressPart(env: ThreadEnv, part: StressPart): StressPartResult {
  const inFlight: Coroutine[] = [];
  let requests = 0;
  let peakInFlight = 0;
  let roundsRun = 0;
  for (const [round, burst] of part.inFlightPerRound.entries()) {
    if (!env.aborted()) roundsRun++;
    requests += submitBurst(env, burst, inFlight);
    peakInFlight = Math.max(peakInFlight, inFlight.length);
    env.sync();
    completeAll(env, inFlight);
    env.sync();
    env.phaseDone(`after round ${round + 1}`);
    env.progress();
  }
  return { requests, peakInFlight, roundsRun };
}
