/// <reference lib="es2024.sharedmemory" />
// ^ Atomics.waitAsync is in Node 20 but only typed from ES2024; the project targets ES2022.

/**
 * A three-state futex mutex, after Ulrich Drepper, "Futexes Are Tricky" (mutex #3).
 *
 *   state word   0 UNLOCKED
 *                1 LOCKED               nobody sleeps on the word: unlock need not notify
 *                2 LOCKED_MAYBE_WAITERS someone may sleep on the word: unlock must notify
 *
 *   lock:   CAS 0 -> 1; on failure swap in 2 and sleep while the swap returns non-zero.
 *   unlock: swap in 0; if the old value was 2, wake one sleeper.
 *
 * Two states would force every unlock to notify (a syscall); the third state lets the
 * uncontended path stay at one CAS to lock and one swap to unlock. A waiter that swaps in
 * 2 and gets 0 owns the lock with the state at 2, so its own unlock notifies once more
 * than strictly needed: that is the price of never missing a sleeper.
 *
 * The mutex owns no memory. It is a view onto words the shared-memory layout places
 * inside one region, so every thread that constructs it over the same words sees the
 * same lock:
 *
 *   Int32Array     [i32Base + STATE]         state, as above
 *                  [i32Base + OWNER]         owner id + 1 (0 = no owner)
 *   BigInt64Array  [i64Base + ACQUISITIONS]  successful lock / tryLock / lockAsync
 *                  [i64Base + CONTENDED]     acquisitions whose fast path failed
 *                  [i64Base + WAIT_NS]       time spent waiting, ns (timed-out waits too)
 *                  [i64Base + RECOVERIES]    locks taken over from a holder that died
 *
 * The owner word is what makes the lock robust, as a POSIX robust mutex is: a worker
 * thread can die (throw, exit, be terminated) while it holds the lock, and a dead
 * holder never unlocks. `lockRobust` waits in short slices and, between them, asks
 * the caller whether the recorded owner is dead; if so it takes the lock over (a CAS
 * on the owner word, so exactly one waiter wins) and returns true, like EOWNERDEAD:
 * the new owner must repair what the lock guards before it unlocks.
 *
 * The main thread must never call Atomics.wait: `lock` refuses to wait there,
 * `lockAsync` (Atomics.waitAsync) is its non-blocking form, and on the main thread
 * `lockRobust` takes a free or a dead holder's lock and otherwise throws
 * ERR_MAIN_THREAD_BLOCK rather than wait.
 */

import { isMainThread } from "node:worker_threads";
import { SyncError, invalidArgumentError, mainThreadBlockError } from "./errors.js";

export const MUTEX_INT32_WORDS = 2;
export const MUTEX_INT64_WORDS = 4;

// Int32 word offsets, relative to i32Base.
const STATE = 0;
const OWNER = 1;

// BigInt64 word offsets, relative to i64Base.
const ACQUISITIONS = 0;
const CONTENDED = 1;
const WAIT_NS = 2;
const RECOVERIES = 3;

/** How often a robust waiter wakes to ask whether the holder is still alive. */
const ROBUST_CHECK_MS = 20;

// Values of the state word.
const UNLOCKED = 0;
const LOCKED = 1;
const LOCKED_MAYBE_WAITERS = 2;

/** Stored in the owner word when nobody holds the lock; owners are stored as id + 1. */
const NO_OWNER = 0;
/** Largest owner id whose id + 1 still fits in an Int32 word. */
const MAX_OWNER_ID = 0x7fff_fffe;

export interface MutexStats {
  /** Successful lock / tryLock / lockAsync calls. */
  acquisitions: number;
  /** Acquisitions that found the lock held and had to wait for it. */
  contended: number;
  /** Total time spent waiting for the lock, in nanoseconds, including waits that timed out. */
  waitNs: number;
  /** Times a thread took the lock over from a holder that had died (robust recovery). */
  recoveries: number;
}

/** The figures of a mutex nobody has taken yet (and of a pool that has no lock). */
export function unusedMutexStats(): MutexStats {
  return { acquisitions: 0, contended: 0, waitNs: 0, recoveries: 0 };
}

export class FutexMutex {
  private readonly i32: Int32Array;
  private readonly i64: BigInt64Array;
  // Absolute indices, computed once so the hot path does no arithmetic.
  private readonly stateAt: number;
  private readonly ownerAt: number;
  private readonly acquisitionsAt: number;
  private readonly contendedAt: number;
  private readonly waitNsAt: number;
  private readonly recoveriesAt: number;

  constructor(i32: Int32Array, i32Base: number, i64: BigInt64Array, i64Base: number) {
    checkPlacement(i32, i32Base, MUTEX_INT32_WORDS, "i32");
    checkPlacement(i64, i64Base, MUTEX_INT64_WORDS, "i64");
    this.i32 = i32;
    this.i64 = i64;
    this.stateAt = i32Base + STATE;
    this.ownerAt = i32Base + OWNER;
    this.acquisitionsAt = i64Base + ACQUISITIONS;
    this.contendedAt = i64Base + CONTENDED;
    this.waitNsAt = i64Base + WAIT_NS;
    this.recoveriesAt = i64Base + RECOVERIES;
  }

  /** Zero the mutex's words. Done once, by whoever creates the region, before any thread uses it. */
  static initialize(i32: Int32Array, i32Base: number, i64: BigInt64Array, i64Base: number): void {
    checkPlacement(i32, i32Base, MUTEX_INT32_WORDS, "i32");
    checkPlacement(i64, i64Base, MUTEX_INT64_WORDS, "i64");
    for (let word = 0; word < MUTEX_INT32_WORDS; word++) Atomics.store(i32, i32Base + word, 0);
    for (let word = 0; word < MUTEX_INT64_WORDS; word++) Atomics.store(i64, i64Base + word, 0n);
  }

  /**
   * Take the lock, sleeping in Atomics.wait while another thread holds it.
   * Worker threads only: on the main thread a held lock throws ERR_MAIN_THREAD_BLOCK
   * instead of waiting. Throws ERR_LOCK_TIMEOUT if the lock is not free within `timeoutMs`.
   */
  lock(ownerId: number, timeoutMs = Infinity): void {
    checkOwnerId(ownerId);
    const seen = Atomics.compareExchange(this.i32, this.stateAt, UNLOCKED, LOCKED);
    if (seen !== UNLOCKED) this.waitForLock(seen, timeoutMs);
    this.recordAcquisition(ownerId);
  }

  /**
   * `lock` that survives a holder's death, as a robust POSIX mutex does: while
   * waiting it wakes every few ms to ask `isDead(owner)`, and if the holder
   * died it takes the lock over and returns true (EOWNERDEAD): the caller
   * now owns the lock and must repair what it guards. Otherwise false.
   * On the main thread it never waits: it takes a dead holder's lock over or
   * throws ERR_MAIN_THREAD_BLOCK. The one blind spot: a holder that dies
   * between winning the state word and writing its id cannot be identified.
   */
  lockRobust(ownerId: number, isDead: (owner: number) => boolean, timeoutMs = Infinity): boolean {
    checkOwnerId(ownerId);
    if (Atomics.compareExchange(this.i32, this.stateAt, UNLOCKED, LOCKED) === UNLOCKED) {
      this.recordAcquisition(ownerId);
      return false;
    }
    if (this.takeOverFromDead(ownerId, isDead)) return true;
    if (isMainThread) throw mainThreadBlockError("FutexMutex.lockRobust()", "tryLock() once the holder is known dead");
    const deadline = deadlineAfter(timeoutMs);
    for (;;) {
      const slice = Math.min(ROBUST_CHECK_MS, msUntil(deadline));
      try {
        this.waitForLock(LOCKED, Math.max(0, slice));
        this.recordAcquisition(ownerId);
        return false;
      } catch (err) {
        if (!(err instanceof SyncError) || err.code !== "ERR_LOCK_TIMEOUT") throw err;
      }
      if (this.takeOverFromDead(ownerId, isDead)) return true;
      if (msUntil(deadline) <= 0) throw lockTimeoutError(timeoutMs, this.owner());
    }
  }

  /**
   * The lock stays held (a dead holder never unlocks); ownership passes by a
   * CAS on the owner word, so of several waiters exactly one takes it over.
   */
  private takeOverFromDead(ownerId: number, isDead: (owner: number) => boolean): boolean {
    const stored = Atomics.load(this.i32, this.ownerAt);
    if (stored === NO_OWNER || !isDead(stored - 1)) return false;
    if (Atomics.compareExchange(this.i32, this.ownerAt, stored, ownerId + 1) !== stored) return false;
    // Others may sleep on the word: make sure our unlock wakes one.
    Atomics.store(this.i32, this.stateAt, LOCKED_MAYBE_WAITERS);
    Atomics.add(this.i64, this.acquisitionsAt, 1n);
    Atomics.add(this.i64, this.recoveriesAt, 1n);
    return true;
  }

  /** Take the lock if it is free right now. Never waits, so it is safe on any thread. */
  tryLock(ownerId: number): boolean {
    checkOwnerId(ownerId);
    if (Atomics.compareExchange(this.i32, this.stateAt, UNLOCKED, LOCKED) !== UNLOCKED) return false;
    this.recordAcquisition(ownerId);
    return true;
  }

  /**
   * Take the lock without blocking the thread: waits with Atomics.waitAsync, so the
   * event loop keeps running. The main thread's form of `lock`. Rejects with
   * ERR_LOCK_TIMEOUT if the lock is not free within `timeoutMs`.
   */
  async lockAsync(ownerId: number, timeoutMs = Infinity): Promise<void> {
    checkOwnerId(ownerId);
    const seen = Atomics.compareExchange(this.i32, this.stateAt, UNLOCKED, LOCKED);
    if (seen !== UNLOCKED) await this.waitForLockAsync(seen, timeoutMs);
    this.recordAcquisition(ownerId);
  }

  /** Release the lock, waking one waiter if there may be any. Throws ERR_MUTEX_NOT_LOCKED if it was free. */
  unlock(): void {
    // Cleared before the release: once the state is 0 the next owner may write its own id.
    Atomics.store(this.i32, this.ownerAt, NO_OWNER);
    const previous = Atomics.exchange(this.i32, this.stateAt, UNLOCKED);
    if (previous === LOCKED_MAYBE_WAITERS) Atomics.notify(this.i32, this.stateAt, 1);
    else if (previous === UNLOCKED) throw notLockedError();
  }

  isLocked(): boolean {
    return Atomics.load(this.i32, this.stateAt) !== UNLOCKED;
  }

  /**
   * True while the lock is held and some thread has announced it may be waiting for it.
   * A snapshot for diagnostics: the waiter may have given up since.
   */
  mayHaveWaiters(): boolean {
    return Atomics.load(this.i32, this.stateAt) === LOCKED_MAYBE_WAITERS;
  }

  /**
   * The id passed by the current holder, or null when free. Briefly null while held, too:
   * the owner is written just after the state word is won.
   */
  owner(): number | null {
    const stored = Atomics.load(this.i32, this.ownerAt);
    return stored === NO_OWNER ? null : stored - 1;
  }

  stats(): MutexStats {
    return {
      acquisitions: Number(Atomics.load(this.i64, this.acquisitionsAt)),
      contended: Number(Atomics.load(this.i64, this.contendedAt)),
      waitNs: Number(Atomics.load(this.i64, this.waitNsAt)),
      recoveries: Number(Atomics.load(this.i64, this.recoveriesAt)),
    };
  }

  private recordAcquisition(ownerId: number): void {
    Atomics.store(this.i32, this.ownerAt, ownerId + 1);
    Atomics.add(this.i64, this.acquisitionsAt, 1n);
  }

  /** The slow path of `lock`: `seen` is what the failed fast-path CAS found in the state word. */
  private waitForLock(seen: number, timeoutMs: number): void {
    if (isMainThread) throw mainThreadBlockError("FutexMutex.lock()", "lockAsync() or tryLock()");
    for (const ms of this.sleepsUntilLocked(seen, timeoutMs)) Atomics.wait(this.i32, this.stateAt, LOCKED_MAYBE_WAITERS, ms);
  }

  /** `waitForLock` for `lockAsync`: the same protocol, sleeping in Atomics.waitAsync. */
  private async waitForLockAsync(seen: number, timeoutMs: number): Promise<void> {
    for (const ms of this.sleepsUntilLocked(seen, timeoutMs)) {
      const waiting = Atomics.waitAsync(this.i32, this.stateAt, LOCKED_MAYBE_WAITERS, ms);
      if (waiting.async) await waiting.value;
    }
  }

  /**
   * The waiting protocol both slow paths follow, as the sleeps it asks for:
   * announce a waiter, then yield how long to sleep on the state word (while
   * it still reads LOCKED_MAYBE_WAITERS) until swapping in 2 finds the lock
   * free, which takes it. The caller does the sleeping, blocking or not.
   * Throws ERR_LOCK_TIMEOUT past the deadline; the time waited is counted
   * either way, and a wait that ends with the lock counts as contended.
   */
  private *sleepsUntilLocked(seen: number, timeoutMs: number): Generator<number, void, void> {
    const deadline = deadlineAfter(timeoutMs);
    const started = process.hrtime.bigint();
    try {
      let state = this.announceWaiter(seen);
      while (state !== UNLOCKED) {
        const remaining = msUntil(deadline);
        if (remaining <= 0) throw lockTimeoutError(timeoutMs, this.owner());
        yield remaining;
        state = Atomics.exchange(this.i32, this.stateAt, LOCKED_MAYBE_WAITERS);
      }
    } finally {
      this.addWaitTime(started);
    }
    Atomics.add(this.i64, this.contendedAt, 1n);
  }

  /**
   * Mark the lock "maybe waiters" before sleeping, so the holder's unlock notifies us.
   * Returns the state found: 0 means the swap itself took the lock.
   */
  private announceWaiter(seen: number): number {
    if (seen === LOCKED_MAYBE_WAITERS) return seen;
    return Atomics.exchange(this.i32, this.stateAt, LOCKED_MAYBE_WAITERS);
  }

  private addWaitTime(started: bigint): void {
    Atomics.add(this.i64, this.waitNsAt, process.hrtime.bigint() - started);
  }
}

function checkPlacement(view: Int32Array | BigInt64Array, base: number, words: number, name: string): void {
  if (!(view.buffer instanceof SharedArrayBuffer)) {
    throw invalidArgumentError(`FutexMutex ${name} view`, view.constructor.name, "a view of a SharedArrayBuffer");
  }
  if (!Number.isInteger(base) || base < 0 || base + words > view.length) {
    throw invalidArgumentError(
      `FutexMutex ${name}Base`,
      base,
      `an integer in [0, ${view.length - words}] so the mutex's ${words} words fit in the ${view.length}-word view`,
    );
  }
}

function checkOwnerId(ownerId: number): void {
  if (!Number.isInteger(ownerId) || ownerId < 0 || ownerId > MAX_OWNER_ID) {
    throw invalidArgumentError("FutexMutex ownerId", ownerId, `an integer in [0, ${MAX_OWNER_ID}], e.g. a threadId`);
  }
}

function deadlineAfter(timeoutMs: number): number {
  if (!(timeoutMs >= 0)) throw invalidArgumentError("FutexMutex timeoutMs", timeoutMs, "a number >= 0 or Infinity");
  return performance.now() + timeoutMs;
}

function msUntil(deadline: number): number {
  return deadline - performance.now();
}

function lockTimeoutError(timeoutMs: number, holder: number | null): SyncError {
  const heldBy = holder === null ? "" : ` (held by owner ${holder})`;
  return new SyncError(
    "ERR_LOCK_TIMEOUT",
    `FutexMutex: lock not acquired within ${timeoutMs} ms${heldBy}. The holder may be stuck ` +
      `or dead; raise the timeout if the critical section is legitimately long.`,
  );
}

function notLockedError(): SyncError {
  return new SyncError(
    "ERR_MUTEX_NOT_LOCKED",
    "FutexMutex.unlock() called on a mutex that is not locked: every unlock must pair with a successful lock.",
  );
}
