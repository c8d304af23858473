// FutexMutex on real worker threads. Needs `npx tsc -p tsconfig.json` first: the probes
// run the compiled dist/ files.
import { isMainThread } from "node:worker_threads";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SyncError } from "../src/sync/errors.js";
import { FutexMutex, MUTEX_INT32_WORDS, MUTEX_INT64_WORDS } from "../src/sync/futex-mutex.js";
import {
  ProbeClient,
  makeRegion,
  mutexIn,
  viewsOf,
  type AttemptOutcome,
  type MutexPlacement,
  type ProbeTask,
  type Region,
  type RegionViews,
} from "./workers/sync-probe.js";

const PROBE = new URL("../dist/test/workers/sync-probe.js", import.meta.url);

const WORKERS = 4;
const ITERATIONS_PER_WORKER = 20_000;
const MAIN_THREAD_ITERATIONS = 200;
const MAIN_THREAD_ID = 0;
// Bounded waits, all below vitest's 30 s test timeout so that a broken primitive fails
// with our error rather than a generic timeout. WAKE_MS is how promptly an unlock must
// wake a waiter: far below REPLY_MS, so a lost notify cannot pass as a timed-out wait.
const REPLY_MS = 10_000;
const RUN_MS = 20_000;
const WAKE_MS = 2_000;
const HOLD_MS = 100;

// Test layout. Non-zero bases so that an offset bug in the mutex lands on a neighbour.
const I64_WORDS = 8;
const I32_WORDS = 16;
const MUTEX: MutexPlacement = { i32Base: 5, i64Base: 3 };
const COUNTER_AT = MUTEX.i32Base + MUTEX_INT32_WORDS + 2;
const START_GATE_AT = COUNTER_AT + 1;

let region: Region;
let views: RegionViews;
let mutex: FutexMutex;
let probes: ProbeClient[] = [];

function spawn(task: ProbeTask): ProbeClient {
  const probe = new ProbeClient(PROBE, task);
  probes.push(probe);
  return probe;
}

function hold(ownerId: number): ProbeClient {
  return spawn({ kind: "hold", region, mutex: MUTEX, ownerId });
}

async function attempt(mode: "tryLock" | "lock", ownerId: number, timeoutMs = 0): Promise<AttemptOutcome> {
  const probe = spawn({ kind: "attempt", region, mutex: MUTEX, ownerId, mode, timeoutMs });
  return (await probe.expect("attempted", REPLY_MS)).outcome;
}

async function release(holder: ProbeClient): Promise<void> {
  holder.send({ type: "release" });
  await holder.expect("released", REPLY_MS);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(5);
  }
}

function syncErrorCode(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof SyncError) return error.code;
    throw error;
  }
  return undefined;
}

async function rejectionCode(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SyncError) return error.code;
    throw error;
  }
  return undefined;
}

beforeEach(() => {
  region = makeRegion(I32_WORDS, I64_WORDS);
  views = viewsOf(region);
  FutexMutex.initialize(views.i32, MUTEX.i32Base, views.i64, MUTEX.i64Base);
  mutex = mutexIn(views, MUTEX);
});

afterEach(async () => {
  await Promise.all(probes.map((probe) => probe.terminate()));
  probes = [];
});

describe("FutexMutex", () => {
  it("gives exact mutual exclusion to 4 workers and the main thread", async () => {
    const counters = Array.from({ length: WORKERS }, (_, i) =>
      spawn({
        kind: "count",
        region,
        mutex: MUTEX,
        ownerId: i + 1,
        counterAt: COUNTER_AT,
        iterations: ITERATIONS_PER_WORKER,
        startGateAt: START_GATE_AT,
      }),
    );
    await Promise.all(counters.map((probe) => probe.expect("ready", REPLY_MS)));

    // Open the gate only once every worker is ready, so they really compete; the main
    // thread holds the lock until one of them has announced it waits, so at least one
    // acquisition is contended whatever the scheduler does.
    expect(mutex.tryLock(MAIN_THREAD_ID)).toBe(true);
    Atomics.store(views.i32, START_GATE_AT, 1);
    Atomics.notify(views.i32, START_GATE_AT);
    await until(() => mutex.mayHaveWaiters(), REPLY_MS);
    mutex.unlock();
    for (let i = 0; i < MAIN_THREAD_ITERATIONS; i++) {
      await mutex.lockAsync(MAIN_THREAD_ID, RUN_MS);
      views.i32[COUNTER_AT] = views.i32[COUNTER_AT] + 1;
      mutex.unlock();
    }
    await Promise.all(counters.map((probe) => probe.expect("done", RUN_MS)));

    const total = WORKERS * ITERATIONS_PER_WORKER + MAIN_THREAD_ITERATIONS;
    expect(Atomics.load(views.i32, COUNTER_AT)).toBe(total);
    const stats = mutex.stats();
    // The gate's tryLock is one more acquisition, and one that never waits.
    expect(stats.acquisitions).toBe(total + 1);
    expect(stats.contended).toBeGreaterThanOrEqual(1);
    expect(stats.contended).toBeLessThanOrEqual(total);
    expect(stats.waitNs).toBeGreaterThan(0);
    expect(mutex.isLocked()).toBe(false);
    expect(mutex.owner()).toBeNull();
  });

  it("keeps its words inside its placement", async () => {
    const counter = spawn({
      kind: "count",
      region,
      mutex: MUTEX,
      ownerId: 1,
      counterAt: COUNTER_AT,
      iterations: 1_000,
      startGateAt: START_GATE_AT,
    });
    await counter.expect("ready", REPLY_MS);
    Atomics.store(views.i32, START_GATE_AT, 1);
    Atomics.notify(views.i32, START_GATE_AT);
    await counter.expect("done", RUN_MS);
    expect(views.i32[COUNTER_AT]).toBe(1_000);

    const mutexI32 = new Set(Array.from({ length: MUTEX_INT32_WORDS }, (_, i) => MUTEX.i32Base + i));
    const mutexI64 = new Set(Array.from({ length: MUTEX_INT64_WORDS }, (_, i) => MUTEX.i64Base + i));
    for (let i = 0; i < I32_WORDS; i++) {
      if (!mutexI32.has(i) && i !== COUNTER_AT && i !== START_GATE_AT) expect(views.i32[i], `i32[${i}]`).toBe(0);
    }
    for (let i = 0; i < I64_WORDS; i++) {
      if (!mutexI64.has(i)) expect(views.i64[i], `i64[${i}]`).toBe(0n);
    }
  });

  it("tryLock fails while another thread holds the lock and succeeds after unlock", async () => {
    const holder = hold(7);
    await holder.expect("locked", REPLY_MS);
    expect(mutex.isLocked()).toBe(true);
    expect(mutex.owner()).toBe(7);

    expect(await attempt("tryLock", 8)).toMatchObject({ acquired: false, errorCode: null });
    expect(mutex.tryLock(MAIN_THREAD_ID)).toBe(false);
    expect(mutex.owner()).toBe(7);

    await release(holder);
    expect(mutex.isLocked()).toBe(false);
    expect(mutex.owner()).toBeNull();

    expect(await attempt("tryLock", 9)).toMatchObject({ acquired: true, ownerWhileHeld: 9 });
    expect(mutex.owner()).toBeNull();
    expect(mutex.tryLock(MAIN_THREAD_ID)).toBe(true);
    expect(mutex.owner()).toBe(MAIN_THREAD_ID);
    mutex.unlock();
    expect(mutex.owner()).toBeNull();

    // hold + worker tryLock + main tryLock; failed attempts are not acquisitions.
    expect(mutex.stats()).toMatchObject({ acquisitions: 3, contended: 0 });
  });

  it("a worker's lock() sleeps while the lock is held and wakes when it is unlocked", async () => {
    const holder = hold(7);
    await holder.expect("locked", REPLY_MS);
    const waiter = spawn({ kind: "attempt", region, mutex: MUTEX, ownerId: 8, mode: "lock", timeoutMs: REPLY_MS });
    // Release only once the waiter is known to be in the slow path, however slowly it started.
    await until(() => mutex.mayHaveWaiters(), REPLY_MS);
    await sleep(HOLD_MS);
    expect(mutex.owner()).toBe(7);

    const released = performance.now();
    await release(holder);
    const { outcome } = await waiter.expect("attempted", REPLY_MS);
    expect(outcome).toMatchObject({ acquired: true, ownerWhileHeld: 8, errorCode: null });
    expect(performance.now() - released).toBeLessThan(WAKE_MS);
    expect(mutex.isLocked()).toBe(false);
    const stats = mutex.stats();
    expect(stats).toMatchObject({ acquisitions: 2, contended: 1 });
    expect(stats.waitNs).toBeGreaterThan(0);
  });

  it("a worker's timed lock gives up with ERR_LOCK_TIMEOUT and counts the wait", async () => {
    const holder = hold(7);
    await holder.expect("locked", REPLY_MS);

    const outcome = await attempt("lock", 8, 150);
    expect(outcome).toMatchObject({ acquired: false, errorCode: "ERR_LOCK_TIMEOUT" });
    expect(outcome.elapsedMs).toBeGreaterThanOrEqual(140);
    expect(mutex.owner()).toBe(7);
    expect(mutex.stats().waitNs).toBeGreaterThanOrEqual(140e6);

    // The timed-out waiter left the state at "maybe waiters": the lock must still work.
    await release(holder);
    expect(await attempt("lock", 9, REPLY_MS)).toMatchObject({ acquired: true, ownerWhileHeld: 9 });
    expect(mutex.stats()).toMatchObject({ acquisitions: 2, contended: 0 });
  });

  it("unlock of a free mutex throws ERR_MUTEX_NOT_LOCKED", () => {
    expect(syncErrorCode(() => mutex.unlock())).toBe("ERR_MUTEX_NOT_LOCKED");
    expect(mutex.isLocked()).toBe(false);
  });

  it("rejects placements and owner ids that cannot be right", () => {
    const { i32, i64 } = views;
    expect(syncErrorCode(() => new FutexMutex(i32, I32_WORDS - 1, i64, 0))).toBe("ERR_SYNC_INVALID_ARGUMENT");
    expect(syncErrorCode(() => new FutexMutex(i32, 0, i64, I64_WORDS - 2))).toBe("ERR_SYNC_INVALID_ARGUMENT");
    expect(syncErrorCode(() => new FutexMutex(i32, -1, i64, 0))).toBe("ERR_SYNC_INVALID_ARGUMENT");
    const unshared = new Int32Array(4);
    expect(syncErrorCode(() => new FutexMutex(unshared, 0, i64, 0))).toBe("ERR_SYNC_INVALID_ARGUMENT");
    expect(syncErrorCode(() => mutex.tryLock(-1))).toBe("ERR_SYNC_INVALID_ARGUMENT");
    expect(syncErrorCode(() => mutex.lock(1.5))).toBe("ERR_SYNC_INVALID_ARGUMENT");
    expect(mutex.isLocked()).toBe(false);
  });
});

describe("FutexMutex on the main thread", () => {
  it("runs these tests on the real main thread", () => {
    // Otherwise lock() below would block instead of throwing, and the tests would lie.
    expect(isMainThread).toBe(true);
  });

  it("takes a free lock with lock() (the fast path never waits)", () => {
    mutex.lock(MAIN_THREAD_ID);
    expect(mutex.owner()).toBe(MAIN_THREAD_ID);
    mutex.unlock();
    expect(mutex.stats()).toMatchObject({ acquisitions: 1, contended: 0, waitNs: 0 });
  });

  it("lock() on a held mutex throws ERR_MAIN_THREAD_BLOCK at once instead of waiting", async () => {
    const holder = hold(7);
    await holder.expect("locked", REPLY_MS);

    const started = performance.now();
    expect(syncErrorCode(() => mutex.lock(MAIN_THREAD_ID, REPLY_MS))).toBe("ERR_MAIN_THREAD_BLOCK");
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(mutex.owner()).toBe(7);
    expect(mutex.stats()).toMatchObject({ acquisitions: 1, contended: 0, waitNs: 0 });

    // The refused call must not have disturbed the lock.
    await release(holder);
    expect(mutex.isLocked()).toBe(false);
  });

  it("lockAsync resolves once the worker holding the lock unlocks", async () => {
    const holder = hold(7);
    await holder.expect("locked", REPLY_MS);

    let acquiredAt: number | null = null;
    const locking = mutex.lockAsync(MAIN_THREAD_ID, REPLY_MS).then(() => {
      acquiredAt = performance.now();
    });
    expect(mutex.mayHaveWaiters()).toBe(true);
    await sleep(HOLD_MS);
    expect(acquiredAt).toBeNull();

    const released = performance.now();
    await release(holder);
    await locking;
    expect(acquiredAt! - released).toBeLessThan(WAKE_MS);
    expect(mutex.owner()).toBe(MAIN_THREAD_ID);
    mutex.unlock();
    const stats = mutex.stats();
    expect(stats).toMatchObject({ acquisitions: 2, contended: 1 });
    expect(stats.waitNs).toBeGreaterThanOrEqual((HOLD_MS - 10) * 1e6);
  });

  it("lockAsync rejects with ERR_LOCK_TIMEOUT when the lock is never released", async () => {
    const holder = hold(7);
    await holder.expect("locked", REPLY_MS);

    const started = performance.now();
    expect(await rejectionCode(mutex.lockAsync(MAIN_THREAD_ID, 200))).toBe("ERR_LOCK_TIMEOUT");
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    expect(mutex.owner()).toBe(7);
    expect(mutex.stats()).toMatchObject({ acquisitions: 1, contended: 0 });

    await release(holder);
    expect(mutex.tryLock(MAIN_THREAD_ID)).toBe(true);
    mutex.unlock();
  });
});
