import { SeededRandom } from "../../random.js";
import type { RunPlan } from "../../runtime/runtime.js";
import type { StressScenario } from "../types.js";
import { guestPoolSizeIncrease, iothreadQueueEntries } from "../guest.js";
import type { StressPart } from "./part.js";

/** Threads of a guest: its IOThreads first, then the main loop if it has one. */
export function stressThreadNames(s: StressScenario): string[] {
  const names = Array.from({ length: s.guest.iothreads }, (_, t) => `iothread${t}`);
  return s.guest.mainLoop ? [...names, "main-loop"] : names;
}

/**
 * Each IOThread's burst in each round is drawn from [min, max] × the queue
 * entries it serves (seeded, so a run can be repeated exactly); the main loop
 * has a fixed burst. The pool size rises per device as QEMU raises it.
 */
export function planStress(s: StressScenario): RunPlan {
  const random = new SeededRandom(s.seed);
  const entries = iothreadQueueEntries(s.guest);
  const parts: StressPart[] = entries.map((served: number) => ({
    kind: "vma-exhaustion",
    inFlightPerRound: Array.from({ length: s.rounds }, () =>
      random.integer(Math.floor(s.inFlight.min * served), Math.floor(s.inFlight.max * served)),
    ),
  }));
  if (s.guest.mainLoop) {
    parts.push({ kind: "vma-exhaustion", inFlightPerRound: Array.from({ length: s.rounds }, () => s.mainLoopInFlight) });
  }
  return { parts, poolSizeIncrease: guestPoolSizeIncrease(s.guest), progressUnits: parts.length * s.rounds };
}
