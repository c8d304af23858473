/**
 * The bug-report stress's bursts replayed deterministically through each
 * policy's code (src/replay): the same plan the workers run, with the
 * threads' calls put in one fixed order. On real workers the peak moves by
 * a few hundred VMAs from run to run with how the threads interleave (which
 * thread's last batch is left half used at the barrier); here it is the
 * policy's alone, and equal inputs give equal answers. The events carry
 * times at the pace the workers ran them, so that elastic's decay sees the
 * clock it saw there (counted as events, at a real log's pace, a burst of
 * 20,000 completions would last seconds and be trimmed while it arrives).
 */
import { MICROS_PER_SECOND } from "../../src/replay/pool-events.js";
import { PolicyReplay } from "../../src/replay/replay.js";
import type { RunPlan } from "../../src/runtime/runtime.js";
import type { StressPart } from "../../src/scenarios/stress/part.js";
import type { PolicyName } from "../../src/pools/index.js";

const MICROS_PER_MS = MICROS_PER_SECOND / 1000;

/** How the threads' calls are put in one order. */
export type Serialization = "thread by thread" | "round robin";
export const SERIALIZATIONS: Serialization[] = ["thread by thread", "round robin"];

export interface SerializedPeak {
  peakVmas: number;
  stacksCreated: number;
  completed: boolean;
}

/**
 * Each round: every thread's burst created, then every coroutine terminated
 * on its thread in the order created; "thread by thread" runs one thread's
 * whole burst (or completions) before the next, "round robin" one call per
 * thread in turn. The pool size rises first, as the devices are realized.
 */
export function replayStressSerialized(
  plan: RunPlan,
  config: { policy: PolicyName; uncapped: boolean },
  limits: { maxMapCount: number; baselineVmas: number },
  serialization: Serialization,
  /** Pool events a millisecond on the workers. */
  eventsPerMs: number,
): SerializedPeak {
  const parts = plan.parts as StressPart[];
  const replay = new PolicyReplay({ policy: config.policy, uncapped: config.uncapped, ...limits });
  replay.threadsSeen(parts.length);
  let events = 0;
  const now = () => Math.round((MICROS_PER_MS * events++) / eventsPerMs);
  replay.inc(plan.poolSizeIncrease, 0, now());
  let nextCo = 0;
  const rounds = Math.max(...parts.map((p) => p.inFlightPerRound.length));
  for (let round = 0; round < rounds && replay.failure === null; round++) {
    const bursts = parts.map((p) => p.inFlightPerRound[round] ?? 0);
    const live: number[][] = parts.map(() => []);
    eachCall(bursts, serialization, (thread) => {
      const co = nextCo++;
      live[thread]!.push(co);
      replay.create(thread, co, 0, now());
    });
    eachCall(bursts, serialization, (thread, i) => replay.terminate(thread, live[thread]![i]!, 0, now()));
  }
  const { result } = replay.outcome({ showPeak: false, firstTime: 0 });
  return { peakVmas: result.vmas.peak, stacksCreated: result.stacksCreated, completed: result.failure === null };
}

/** Calls `call(thread, i)` for i < counts[thread] on every thread, in the serialization's order. */
function eachCall(counts: number[], serialization: Serialization, call: (thread: number, i: number) => void): void {
  if (serialization === "thread by thread") {
    counts.forEach((n, thread) => {
      for (let i = 0; i < n; i++) call(thread, i);
    });
    return;
  }
  for (let i = 0; i < Math.max(...counts); i++) counts.forEach((n, thread) => i < n && call(thread, i));
}
