import type { Coroutine } from "../../coroutine/index.js";
import { SeededRandom } from "../../random.js";
import type { ThreadEnv } from "../../runtime/thread-env.js";
import { submitBurst } from "../requests.js";

/** One thread's share of a soak run. */
export interface SoakPart {
  kind: "soak";
  phases: number;
  /** Coroutine lifecycles this thread runs in each phase. */
  lifecyclesPerPhase: number;
  /** Bursts are 1..maxBurst coroutines in flight at once. */
  maxBurst: number;
  /** Chance, after each burst, that the thread exits and comes back as a new thread. */
  exitChance: number;
  seed: number;
}

export interface SoakPartResult {
  lifecycles: number;
  bursts: number;
  threadExits: number;
  phasesRun: number;
}

/**
 * Random bursts of coroutines, completed in a random order (so stacks go back
 * to the pools out of LIFO order), and now and then a thread exit in the
 * middle of the run (QEMU's exit notifier; the thread then carries on as a
 * new thread with empty pools). Every phase ends at a barrier, where the
 * invariant checker can walk the whole region.
 */
export function runSoakPart(env: ThreadEnv, part: SoakPart): SoakPartResult {
  const random = new SeededRandom(part.seed * 1009 + env.thread);
  const inFlight: Coroutine[] = [];
  const result: SoakPartResult = { lifecycles: 0, bursts: 0, threadExits: 0, phasesRun: 0 };
  for (let phase = 0; phase < part.phases; phase++) {
    for (let done = 0; done < part.lifecyclesPerPhase && !env.aborted(); ) {
      const burst = Math.min(random.integer(1, part.maxBurst), part.lifecyclesPerPhase - done);
      submitBurst(env, burst, inFlight);
      completeShuffled(env, inFlight, random);
      done += burst;
      result.lifecycles += burst;
      result.bursts++;
      if (random.next() < part.exitChance) {
        env.exitAndContinue();
        result.threadExits++;
      }
    }
    result.phasesRun++;
    env.sync();
    env.phaseDone(`after phase ${phase + 1}`);
    env.progress();
  }
  return result;
}

/** Completes every request in flight in a random order (Fisher-Yates). */
function completeShuffled(env: ThreadEnv, inFlight: Coroutine[], random: SeededRandom): void {
  for (let i = inFlight.length - 1; i > 0; i--) {
    const j = random.integer(0, i);
    [inFlight[i], inFlight[j]] = [inFlight[j]!, inFlight[i]!];
  }
  for (const co of inFlight) env.coroutines.enter(co);
  inFlight.length = 0;
}
