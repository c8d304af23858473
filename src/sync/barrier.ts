/// <reference lib="es2024.sharedmemory" />
// ^ Atomics.waitAsync is in Node 20 but only typed from ES2024; the project targets ES2022.

/**
 * A reusable generation-counting barrier for a fixed number of parties, so that scenario
 * phases start together on every thread.
 *
 *   Int32Array [base + PHASE]    generation << 16 | arrived   (one word, see below)
 *              [base + PARTIES]  number of parties, written by `initialize`
 *
 * Each arrival increments `arrived` with a CAS. The arrival that completes the count
 * instead resets `arrived` to 0 and advances the generation in the same CAS, then wakes
 * everyone sleeping on the word. Waiters sleep until the generation differs from the one
 * they arrived in, which makes the barrier reusable phase after phase.
 *
 * Why one packed word instead of two: a party that times out must take its arrival back,
 * or the next phase would trip one arrival early. With separate count and generation
 * words, "decrement the count if the generation is still mine" is two reads and a write
 * that can interleave with the phase completing and the next phase starting (ABA). In one
 * word it is a single CAS. The cost is a limit of 65535 parties and a generation that
 * wraps at 65536, which is harmless: a waiter cannot sleep through a phase that needs it.
 *
 * The main thread must never call Atomics.wait: `arriveAndWait` is for workers,
 * `arriveAsync` (Atomics.waitAsync) for the main thread.
 */

import { isMainThread } from "node:worker_threads";
import { SyncError, invalidArgumentError, mainThreadBlockError } from "./errors.js";

export const BARRIER_INT32_WORDS = 2;

// Int32 word offsets, relative to base.
const PHASE = 0;
const PARTIES = 1;

const ARRIVED_BITS = 16;
const ARRIVED_MASK = (1 << ARRIVED_BITS) - 1;
const GENERATION_MASK = 0xffff;

export const MAX_BARRIER_PARTIES = ARRIVED_MASK;

/** Where an arrival left the barrier: the generation it arrived in and whether it completed it. */
interface Arrival {
  generation: number;
  last: boolean;
}

/** One sleep of a waiting party: on the phase word while it still reads `word`, for at most `ms`. */
interface Sleep {
  word: number;
  ms: number;
}

export class Barrier {
  private readonly i32: Int32Array;
  private readonly phaseAt: number;
  private readonly partiesAt: number;

  constructor(i32: Int32Array, base: number, parties: number) {
    checkPlacement(i32, base);
    checkParties(parties);
    const shared = Atomics.load(i32, base + PARTIES);
    if (shared !== parties) {
      throw invalidArgumentError(
        "Barrier parties",
        parties,
        `${shared}, the count Barrier.initialize wrote at index ${base} (was it initialized, and with the same count?)`,
      );
    }
    this.i32 = i32;
    this.phaseAt = base + PHASE;
    this.partiesAt = base + PARTIES;
  }

  /** Parties the current phase waits for (fewer once a dead party was removed). */
  get parties(): number {
    return Atomics.load(this.i32, this.partiesAt);
  }

  /**
   * A party died and will never arrive again: stop waiting for it, releasing
   * the current phase if everyone else is already there. Safe on any thread.
   */
  removeParty(): void {
    if (Atomics.sub(this.i32, this.partiesAt, 1) <= 1) throw invalidArgumentError("Barrier.removeParty()", 0, "at least one party left");
    this.completeIfAllArrived(generationOf(Atomics.load(this.i32, this.phaseAt)));
  }

  /** Reset the barrier's words for `parties` parties. Done once, by whoever creates the region. */
  static initialize(i32: Int32Array, base: number, parties: number): void {
    checkPlacement(i32, base);
    checkParties(parties);
    Atomics.store(i32, base + PHASE, packPhase(0, 0));
    Atomics.store(i32, base + PARTIES, parties);
  }

  /**
   * Arrive and sleep until every party has arrived. Returns true for exactly one party
   * per phase, the last to arrive (use it to pick a "serial" thread for one-off work).
   * Worker threads only: throws ERR_MAIN_THREAD_BLOCK on the main thread, before arriving.
   * On timeout the arrival is taken back, so the barrier stays usable, and
   * ERR_BARRIER_TIMEOUT is thrown.
   */
  arriveAndWait(timeoutMs: number): boolean {
    if (isMainThread) throw mainThreadBlockError("Barrier.arriveAndWait()", "arriveAsync()");
    const deadline = deadlineAfter(timeoutMs);
    const arrival = this.arrive();
    if (arrival.last) return true;
    for (const sleep of this.sleepsUntilReleased(arrival, deadline, timeoutMs)) Atomics.wait(this.i32, this.phaseAt, sleep.word, sleep.ms);
    return false;
  }

  /**
   * `arriveAndWait` without blocking the thread (Atomics.waitAsync): the main thread's
   * way to take part. Resolves to true for the last party to arrive.
   */
  async arriveAsync(timeoutMs: number): Promise<boolean> {
    const deadline = deadlineAfter(timeoutMs);
    const arrival = this.arrive();
    if (arrival.last) return true;
    for (const sleep of this.sleepsUntilReleased(arrival, deadline, timeoutMs)) {
      const waiting = Atomics.waitAsync(this.i32, this.phaseAt, sleep.word, sleep.ms);
      if (waiting.async) await waiting.value;
    }
    return false;
  }

  /**
   * The waiting both forms share, as the sleeps it asks for: while the phase
   * word still shows `arrival`'s generation, yield the word to sleep on and
   * for how long; the caller sleeps, blocking or not. Past the deadline the
   * arrival is taken back (giveUp), which throws unless the phase completed.
   */
  private *sleepsUntilReleased(arrival: Arrival, deadline: number, timeoutMs: number): Generator<Sleep, void, void> {
    for (let word = Atomics.load(this.i32, this.phaseAt); generationOf(word) === arrival.generation; word = Atomics.load(this.i32, this.phaseAt)) {
      const remaining = msUntil(deadline);
      if (remaining <= 0) return void this.giveUp(arrival, timeoutMs);
      yield { word, ms: remaining };
    }
  }

  /** Parties that have arrived in the current phase (a snapshot, for diagnostics). */
  waiting(): number {
    return arrivedOf(Atomics.load(this.i32, this.phaseAt));
  }

  private arrive(): Arrival {
    for (;;) {
      const word = Atomics.load(this.i32, this.phaseAt);
      const generation = generationOf(word);
      const arrived = arrivedOf(word) + 1;
      const last = arrived >= this.parties;
      const next = last ? packPhase(generation + 1, 0) : packPhase(generation, arrived);
      if (Atomics.compareExchange(this.i32, this.phaseAt, word, next) !== word) continue;
      if (last) Atomics.notify(this.i32, this.phaseAt);
      // A party removed between our read of `parties` and our CAS would leave
      // the phase complete but unreleased: check again after our own write
      // (removeParty does the mirror image), so one of the two releases it.
      return { generation, last: last || this.completeIfAllArrived(generation) };
    }
  }

  /** Releases phase `generation` if every remaining party has arrived; true if this call did. */
  private completeIfAllArrived(generation: number): boolean {
    for (;;) {
      const word = Atomics.load(this.i32, this.phaseAt);
      if (generationOf(word) !== generation || arrivedOf(word) < this.parties || arrivedOf(word) === 0) return false;
      if (Atomics.compareExchange(this.i32, this.phaseAt, word, packPhase(generation + 1, 0)) === word) {
        Atomics.notify(this.i32, this.phaseAt);
        return true;
      }
    }
  }

  /**
   * Take back an arrival whose wait timed out and throw. If the phase completed in the
   * meantime the arrival counted after all, so the caller passes instead (returns false).
   */
  private giveUp(arrival: Arrival, timeoutMs: number): false {
    for (;;) {
      const word = Atomics.load(this.i32, this.phaseAt);
      if (generationOf(word) !== arrival.generation) return false;
      const withdrawn = packPhase(arrival.generation, arrivedOf(word) - 1);
      if (Atomics.compareExchange(this.i32, this.phaseAt, word, withdrawn) === word) {
        throw barrierTimeoutError(timeoutMs, arrivedOf(word), this.parties);
      }
    }
  }
}

function packPhase(generation: number, arrived: number): number {
  // `| 0` keeps the word an Int32: generations >= 0x8000 set the sign bit.
  return (((generation & GENERATION_MASK) << ARRIVED_BITS) | arrived) | 0;
}

function generationOf(word: number): number {
  return (word >>> ARRIVED_BITS) & GENERATION_MASK;
}

function arrivedOf(word: number): number {
  return word & ARRIVED_MASK;
}

function checkPlacement(i32: Int32Array, base: number): void {
  if (!(i32.buffer instanceof SharedArrayBuffer)) {
    throw invalidArgumentError("Barrier i32 view", i32.constructor.name, "a view of a SharedArrayBuffer");
  }
  if (!Number.isInteger(base) || base < 0 || base + BARRIER_INT32_WORDS > i32.length) {
    throw invalidArgumentError(
      "Barrier base",
      base,
      `an integer in [0, ${i32.length - BARRIER_INT32_WORDS}] so the barrier's ${BARRIER_INT32_WORDS} words fit`,
    );
  }
}

function checkParties(parties: number): void {
  if (!Number.isInteger(parties) || parties < 1 || parties > MAX_BARRIER_PARTIES) {
    throw invalidArgumentError("Barrier parties", parties, `an integer in [1, ${MAX_BARRIER_PARTIES}]`);
  }
}

function deadlineAfter(timeoutMs: number): number {
  if (!(timeoutMs >= 0)) throw invalidArgumentError("Barrier timeoutMs", timeoutMs, "a number >= 0 or Infinity");
  return performance.now() + timeoutMs;
}

function msUntil(deadline: number): number {
  return deadline - performance.now();
}

function barrierTimeoutError(timeoutMs: number, arrived: number, parties: number): SyncError {
  return new SyncError(
    "ERR_BARRIER_TIMEOUT",
    `Barrier: only ${arrived} of ${parties} parties arrived within ${timeoutMs} ms. ` +
      `A party is missing (crashed, stuck, or never started); this arrival was withdrawn ` +
      `so the barrier can be retried.`,
  );
}
