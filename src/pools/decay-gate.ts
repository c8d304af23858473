import { isMainThread } from "node:worker_threads";
import { Header } from "../shared/layout.js";
import type { SharedRegion } from "../shared/region.js";

/**
 * The decay gate (Header.DECAY_GATE): keeps elastic's decay out of a walk of
 * the region made while the workers stand at a barrier.
 *
 * Why: a phase boundary's check (the invariant walk, kernel mode's look at
 * /proc/self/maps) runs on worker thread 0 while the other workers wait at
 * the barrier, so no pool operation runs. But the main thread is not at the
 * barrier: its sampler goes on ticking, and elastic's tick unlinks idle
 * global batches under the lock and unmaps them after it (never under the
 * lock). A tick landing in the walk freed batches the walk was following —
 * their slots FREE inside a global batch, the walk running on into the
 * free-slot list ("slot 4479 is in global batch 39 and also in global batch
 * 39"), or stacks counted as pooled that were freed before the totals were
 * read ("created − freed = 7540, but live + pooled + leaked = 8180"). Holding
 * the global lock in the walk would not do: the unmapping comes after the
 * tick drops the lock. So the tick passes this gate from before it takes the
 * lock until its last unmap, and the walk holds it throughout.
 *
 *   OPEN ──tick: tryEnterDecay──> DECAYING ──leaveDecay──> OPEN
 *   OPEN ──check: holdDecay─────> HELD ─────(done)───────> OPEN
 *
 * Neither side makes the main thread wait. The tick, finding the gate held,
 * leaves the trim due for the next pool operation that holds the lock, as it
 * does when the lock is busy. A check on a worker thread waits for a tick in
 * progress; one on the main thread never finds one (the ticks are its own,
 * and synchronous).
 */
export const DecayGate = { OPEN: 0, DECAYING: 1, HELD: 2 } as const;

/** How long a check sleeps at a time while a tick finishes (it is woken when it does). */
const WAIT_SLICE_MS = 50;

/** This thread's holds, so that a check inside a check (the phase boundary's, around checkRegion's) passes. */
let holds = 0;

/** The tick's side: enters the gate unless a check holds it. Never waits. */
export function tryEnterDecay(i32: Int32Array): boolean {
  return Atomics.compareExchange(i32, Header.DECAY_GATE, DecayGate.OPEN, DecayGate.DECAYING) === DecayGate.OPEN;
}

/** The tick is done, its last stack unmapped: a waiting check goes on. */
export function leaveDecay(i32: Int32Array): void {
  Atomics.store(i32, Header.DECAY_GATE, DecayGate.OPEN);
  Atomics.notify(i32, Header.DECAY_GATE);
}

/** Runs `check` with no decay in progress and none starting until it returns. */
export function holdDecay<T>(region: SharedRegion, check: () => T): T {
  if (holds > 0) return runHeld(check);
  const i32 = region.i32;
  for (;;) {
    const seen = Atomics.compareExchange(i32, Header.DECAY_GATE, DecayGate.OPEN, DecayGate.HELD);
    if (seen === DecayGate.OPEN) break;
    // The main thread runs the ticks itself, so none is in progress: the gate
    // was left held by a worker that died in its check. It never waits.
    if (isMainThread) return runHeld(check);
    Atomics.wait(i32, Header.DECAY_GATE, seen, WAIT_SLICE_MS);
  }
  try {
    return runHeld(check);
  } finally {
    Atomics.store(i32, Header.DECAY_GATE, DecayGate.OPEN);
  }
}

function runHeld<T>(check: () => T): T {
  holds++;
  try {
    return check();
  } finally {
    holds--;
  }
}
