import * as layout from "../shared/layout.js";
import { CONTROLLER_THREAD, Header, MUTEX_I32_BASE, MUTEX_I64_BASE, NO_OWNER, Thread, ThreadStatus } from "../shared/layout.js";
import type { SharedRegion } from "../shared/region.js";
import * as slotList from "../shared/slot-list.js";
import type { StackAllocator } from "../stacks/stack-allocator.js";
import { FutexMutex, type MutexStats } from "../sync/futex-mutex.js";
import { u32, type ListWalker, type PolicyDefinition, type PoolCensus, type PoolPolicy } from "./policy.js";

/** Lock owner id recorded when the controlling (main) thread holds the lock. */
export const CONTROLLER_LOCK_OWNER = 0x7ffffffe;

/** Stacks per batch (COROUTINE_POOL_BATCH_MAX_SIZE). */
export const BATCH_MAX_SIZE = 128;
/** global_pool_max_size before any device raises it. */
export const BATCHED_INITIAL_POOL_MAX_SIZE = 128;
/** A thread's local pool holds at most two batches. */
export const LOCAL_BATCHES_MAX = 2;

// The layout names the hot paths use, as constants of this module. Used
// through the import (`t + Thread.LOCAL_SIZE_0`), each cost V8 (Node 20) a
// load through the module's import cell and a property load with a map check
// at every use, not hoisted past the stores to the shared array; a module
// constant does not. Measured, get + put on one thread: 20 ns -> 10 ns.
const { NO_SLOT, SLOT_WORDS, threadBase } = layout;
const { LOCAL_HEAD_0, LOCAL_SIZE_0, LOCAL_HEAD_1, LOCAL_SIZE_1, CLEANUP_REGISTERED, LAST_HANDED_HEAD } = layout.Thread;
const { STAT_GETS, STAT_POOL_HITS, STAT_PUTS, STAT_REFILLS, STAT_BOUNCES } = layout.Thread;
const { STAT_HAND_OVERS, STAT_HAND_OVER_DISCARDS, STAT_LOCK_ACQUISITIONS } = layout.Thread;
const { BATCH_SIZE, BATCH_NEXT } = layout.Slot;
const { LOCAL_POOL, GLOBAL_POOL } = layout.SlotState;
const { popSlot, pushSlot, relabelList } = slotList;

/**
 * QEMU 9.0's pool: a global pool of batches under a lock, and per-thread local
 * pools of at most two batches.
 *
 *   global pool (under the mutex)     .---------.---------.---------.
 *   GLOBAL_POOL_HEAD ---------------> | batch   | batch   | batch   | ...
 *                                     `---------'---------'---------'
 *   per thread (no lock)              .---------.---------.
 *   LOCAL_HEAD_0/1, LOCAL_SIZE_0/1    | first   | second  |   at most 2
 *                                     `---------'---------'
 *
 * A batch is an intrusive list of stacks. In a thread's local pool its head
 * and size live in the thread's slot; in the global pool its head slot
 * carries the size (BATCH_SIZE) and the link to the next batch (BATCH_NEXT),
 * so moving a batch never allocates. A local batch is never empty: QEMU drops
 * a batch the moment its last stack is taken, so size 0 means "no batch".
 *
 * The lock is taken once per batch (refill or hand-over), never per coroutine.
 */
export class BatchedPolicy implements PoolPolicy {
  readonly name: string = "batched";
  readonly lock: FutexMutex;
  protected readonly region: SharedRegion;
  protected readonly i32: Int32Array;
  /** Int32 index of stack slot 0 (the region's slotsBase), for slotBase() and the slot-list calls. */
  protected readonly slotsBase: number;
  protected readonly stacks: StackAllocator;

  constructor(region: SharedRegion, stacks: StackAllocator) {
    this.region = region;
    this.i32 = region.i32;
    this.slotsBase = region.slotsBase;
    this.stacks = stacks;
    this.lock = new FutexMutex(region.i32, MUTEX_I32_BASE, region.i64, MUTEX_I64_BASE);
  }

  /** coroutine_pool_get: the local pool first, then one batch from the global pool. */
  get(thread: number): number {
    const t = threadBase(thread);
    const i32 = this.i32;
    i32[t + STAT_GETS]!++;
    if (i32[t + LOCAL_SIZE_0] === 0) this.refillLocal(thread);
    const slot = this.getLocal(thread);
    if (slot !== NO_SLOT) i32[t + STAT_POOL_HITS]!++;
    return slot;
  }

  /** coroutine_pool_put: onto the first local batch, handing a full one over. */
  put(thread: number, slot: number): void {
    const t = threadBase(thread);
    const i32 = this.i32;
    i32[t + STAT_PUTS]!++;
    const size = i32[t + LOCAL_SIZE_0]!;
    if (size === 0) {
      // No local batch yet: QEMU makes one and registers the exit cleanup.
      this.registerCleanup(thread);
    } else if (size === BATCH_MAX_SIZE) {
      this.retireFirstBatch(thread);
    }
    this.pushLocal(thread, slot);
  }

  /** local_pool_cleanup: every stack in the local pool is freed. */
  exitThread(thread: number): void {
    const t = threadBase(thread);
    const i32 = this.i32;
    // A local batch always registers the cleanup first, so an unregistered
    // thread has nothing to leave behind.
    if (i32[t + CLEANUP_REGISTERED] === 1) this.freeLocalPool(thread, thread);
    this.forgetLocalPool(thread);
  }

  /** qemu_coroutine_inc_pool_size: under the lock, as QEMU does. */
  incPoolSize(n: number): void {
    this.withGlobalLock(CONTROLLER_THREAD, () => {
      this.i32[Header.POOL_MAX_SIZE] = u32(this.i32[Header.POOL_MAX_SIZE]! + n);
    });
  }

  decPoolSize(n: number): void {
    this.withGlobalLock(CONTROLLER_THREAD, () => {
      this.i32[Header.POOL_MAX_SIZE] = u32(this.i32[Header.POOL_MAX_SIZE]! - n);
    });
  }

  globalPoolSize(): number {
    return this.globalBatchStacks();
  }

  /** global_pool_size: the stacks in the global pool's batches. */
  protected globalBatchStacks(): number {
    return Atomics.load(this.i32, Header.GLOBAL_POOL_SIZE) >>> 0;
  }

  localPoolSize(thread: number): number {
    const t = threadBase(thread);
    return (Atomics.load(this.i32, t + LOCAL_SIZE_0) + Atomics.load(this.i32, t + LOCAL_SIZE_1)) >>> 0;
  }

  drainGlobalPool(): number {
    let freed = 0;
    for (let batch = this.takeGlobalBatch(CONTROLLER_THREAD); batch !== NO_SLOT; batch = this.takeGlobalBatch(CONTROLLER_THREAD)) {
      freed += this.stacks.freeList(batch, CONTROLLER_THREAD);
    }
    return freed;
  }

  reclaimDeadThread(thread: number): number {
    const freed = this.freeLocalPool(thread, CONTROLLER_THREAD);
    this.forgetLocalPool(thread);
    return freed;
  }

  /**
   * Each global batch against the size its head records, the global pool
   * against global_pool_size, and each thread's two local batches against
   * their sizes and QEMU's limits: never more than two batches, never a
   * second without a first.
   */
  census(walker: ListWalker): PoolCensus {
    const i32 = this.i32;
    let global = 0;
    const complete = this.forEachGlobalBatch((batch, recorded, index) => {
      const n = walker.walk(batch, GLOBAL_POOL, NO_OWNER, `global batch ${index}`);
      walker.expect(n === recorded, `global batch ${index} holds ${n} stacks but its head says ${recorded}`);
      global += n;
    });
    const recordedGlobal = this.globalBatchStacks();
    if (!complete) walker.expect(false, "the global batch list has a cycle");
    else walker.expect(global === recordedGlobal, `global pool holds ${global} stacks but global_pool_size says ${recordedGlobal}`);
    const local: number[] = [];
    for (let thread = 0; thread < this.region.threadCapacity; thread++) {
      const t = threadBase(thread);
      const first = walker.walk(i32[t + LOCAL_HEAD_0]!, LOCAL_POOL, thread, `T${thread}'s first local batch`);
      const second = walker.walk(i32[t + LOCAL_HEAD_1]!, LOCAL_POOL, thread, `T${thread}'s second local batch`);
      const size0 = i32[t + LOCAL_SIZE_0]! | 0;
      const size1 = i32[t + LOCAL_SIZE_1]! | 0;
      walker.expect(first === size0 && second === size1, `T${thread}'s local batches hold ${first} + ${second} stacks but their sizes say ${size0} + ${size1}`);
      walker.expect(
        first + second <= LOCAL_BATCHES_MAX * BATCH_MAX_SIZE,
        `T${thread} holds ${first + second} stacks locally, more than ${LOCAL_BATCHES_MAX} batches of ${BATCH_MAX_SIZE}`,
      );
      walker.expect(second === 0 || first > 0, `T${thread} has a second local batch without a first`);
      local.push(first + second);
    }
    return { global, local, globalSizeSkew: 0, localSizeSkew: local.map(() => 0) };
  }

  /** Nothing to do with time: what is pooled stays pooled (QEMU's own behaviour). */
  tick(_nowMs: number): void {}

  lockStats(): MutexStats {
    return this.lock.stats();
  }

  /** coroutine_pool_get_local: pop the first batch; drop it once empty. */
  protected getLocal(thread: number): number {
    const t = threadBase(thread);
    const i32 = this.i32;
    const slot = popSlot(i32, this.slotsBase, t + LOCAL_HEAD_0);
    if (slot === NO_SLOT) return NO_SLOT;
    const left = i32[t + LOCAL_SIZE_0]! - 1;
    i32[t + LOCAL_SIZE_0] = left;
    if (left === 0) this.dropEmptyFirstBatch(t);
    this.stacks.markLive(slot, thread);
    return slot;
  }

  /**
   * The first batch gave its last stack: QEMU drops it, and the second one
   * (if any) becomes the first. `t` is the thread's base index.
   */
  protected dropEmptyFirstBatch(t: number): void {
    const i32 = this.i32;
    i32[t + LOCAL_HEAD_0] = i32[t + LOCAL_HEAD_1]!;
    i32[t + LOCAL_SIZE_0] = i32[t + LOCAL_SIZE_1]!;
    i32[t + LOCAL_HEAD_1] = NO_SLOT;
    i32[t + LOCAL_SIZE_1] = 0;
  }

  protected pushLocal(thread: number, slot: number): void {
    const t = threadBase(thread);
    pushSlot(this.i32, this.slotsBase, t + LOCAL_HEAD_0, slot, LOCAL_POOL, thread);
    this.i32[t + LOCAL_SIZE_0]!++;
  }

  /**
   * The first local batch is full: it makes room for a new, empty first
   * batch. Kept out of put() so that put stays small enough to inline.
   */
  protected retireFirstBatch(thread: number): void {
    const t = threadBase(thread);
    const i32 = this.i32;
    if (i32[t + LOCAL_SIZE_1] !== 0) {
      // Both local batches in use: the full first one goes to the global
      // pool and the second stays where it is.
      this.putGlobal(thread, i32[t + LOCAL_HEAD_0]!, BATCH_MAX_SIZE);
    } else {
      // Room for a second local batch: the full one moves to second place.
      i32[t + LOCAL_HEAD_1] = i32[t + LOCAL_HEAD_0]!;
      i32[t + LOCAL_SIZE_1] = BATCH_MAX_SIZE;
    }
    i32[t + LOCAL_HEAD_0] = NO_SLOT;
    i32[t + LOCAL_SIZE_0] = 0;
  }

  /** coroutine_pool_refill_local: take the first global batch, if there is one. */
  protected refillLocal(thread: number): void {
    const batch = this.takeGlobalBatch(thread);
    if (batch === NO_SLOT) return;
    const t = threadBase(thread);
    const i32 = this.i32;
    const size = i32[this.slotBase(batch) + BATCH_SIZE]!;
    relabelList(i32, this.slotsBase, batch, LOCAL_POOL, thread);
    i32[t + LOCAL_HEAD_0] = batch;
    i32[t + LOCAL_SIZE_0] = size;
    i32[t + STAT_REFILLS]!++;
    if (batch === i32[t + LAST_HANDED_HEAD]) i32[t + STAT_BOUNCES]!++;
    i32[t + LAST_HANDED_HEAD] = NO_SLOT;
    this.registerCleanup(thread);
  }

  /** Unlinks the first global batch and returns its head slot (NO_SLOT if none). */
  protected takeGlobalBatch(thread: number): number {
    return this.withGlobalLock(thread, () => this.unlinkGlobalBatch());
  }

  /** Under the lock: the first global batch, unlinked (NO_SLOT if none). */
  protected unlinkGlobalBatch(): number {
    const i32 = this.i32;
    const batch = i32[Header.GLOBAL_POOL_HEAD]!;
    if (batch !== NO_SLOT) {
      const head = this.slotBase(batch);
      i32[Header.GLOBAL_POOL_HEAD] = i32[head + BATCH_NEXT]!;
      Atomics.store(i32, Header.GLOBAL_POOL_SIZE, u32(i32[Header.GLOBAL_POOL_SIZE]! - i32[head + BATCH_SIZE]!));
    }
    return batch;
  }

  /**
   * coroutine_pool_put_global: the batch joins the global pool while the pool
   * is below min(global_pool_max_size, hard cap) — a pool just below the max
   * may overshoot it by one batch — otherwise every stack in it is freed.
   */
  protected putGlobal(thread: number, batch: number, size: number): void {
    // Relabel before publishing: once the lock is dropped another thread may take it.
    relabelList(this.i32, this.slotsBase, batch, GLOBAL_POOL, NO_OWNER);
    const accepted = this.withGlobalLock(thread, () => this.joinGlobalPool(batch, size));
    this.recordHandOver(thread, batch, accepted);
  }

  /** Under the lock: links the batch in if the global pool is below its limit; whether it did. */
  protected joinGlobalPool(batch: number, size: number): boolean {
    const i32 = this.i32;
    if (i32[Header.GLOBAL_POOL_SIZE]! >>> 0 >= this.globalPoolLimit()) return false;
    const head = this.slotBase(batch);
    i32[head + BATCH_SIZE] = size;
    i32[head + BATCH_NEXT] = i32[Header.GLOBAL_POOL_HEAD]!;
    i32[Header.GLOBAL_POOL_HEAD] = batch;
    Atomics.store(i32, Header.GLOBAL_POOL_SIZE, u32(i32[Header.GLOBAL_POOL_SIZE]! + size));
    return true;
  }

  /** min(global_pool_max_size, global_pool_hard_max_size). */
  protected globalPoolLimit(): number {
    return Math.min(this.i32[Header.POOL_MAX_SIZE]! >>> 0, this.i32[Header.HARD_MAX_SIZE]! >>> 0);
  }

  /** Counts a hand-over, or frees the batch the full global pool refused. */
  protected recordHandOver(thread: number, batch: number, accepted: boolean): void {
    const t = threadBase(thread);
    if (accepted) {
      this.i32[t + STAT_HAND_OVERS]!++;
      this.i32[t + LAST_HANDED_HEAD] = batch;
    } else {
      // The global pool was full, so this batch is thrown away.
      this.i32[t + STAT_HAND_OVER_DISCARDS]!++;
      this.stacks.freeList(batch, thread);
    }
  }

  /** Frees both local batches, counting the frees to `freedBy`; returns how many. */
  protected freeLocalPool(thread: number, freedBy: number): number {
    const t = threadBase(thread);
    return this.stacks.freeList(this.i32[t + LOCAL_HEAD_0]!, freedBy) + this.stacks.freeList(this.i32[t + LOCAL_HEAD_1]!, freedBy);
  }

  /** The thread starts afresh: no local batch, no cleanup registered, nothing handed over. */
  protected forgetLocalPool(thread: number): void {
    const t = threadBase(thread);
    const i32 = this.i32;
    i32[t + LOCAL_HEAD_0] = NO_SLOT;
    i32[t + LOCAL_SIZE_0] = 0;
    i32[t + LOCAL_HEAD_1] = NO_SLOT;
    i32[t + LOCAL_SIZE_1] = 0;
    i32[t + CLEANUP_REGISTERED] = 0;
    i32[t + LAST_HANDED_HEAD] = NO_SLOT;
  }

  /**
   * Calls `visit` on each global batch, first to last, with its head slot,
   * the size its head records and its position. Returns false if the list
   * runs on past the table's size, which only a cycle can make it do.
   */
  protected forEachGlobalBatch(visit: (batch: number, size: number, index: number) => void): boolean {
    const i32 = this.i32;
    let index = 0;
    for (let batch = i32[Header.GLOBAL_POOL_HEAD]!; batch !== NO_SLOT; index++) {
      if (index > this.region.stackCapacity) return false;
      const head = this.slotBase(batch);
      visit(batch, i32[head + BATCH_SIZE]!, index);
      batch = i32[head + BATCH_NEXT]!;
    }
    return true;
  }

  protected registerCleanup(thread: number): void {
    this.i32[threadBase(thread) + CLEANUP_REGISTERED] = 1;
  }

  /** The region's slotBase(), on this module's constants. */
  protected slotBase(slot: number): number {
    return this.slotsBase + slot * SLOT_WORDS;
  }

  /**
   * Test hook: called inside every critical section with the calling thread,
   * so a test can make a worker die while it holds the lock.
   */
  onCriticalSection: ((thread: number) => void) | null = null;

  protected withGlobalLock<T>(thread: number, critical: () => T): T {
    const previousOwnerDied = this.lock.lockRobust(thread === CONTROLLER_THREAD ? CONTROLLER_LOCK_OWNER : thread, this.isDead);
    try {
      if (previousOwnerDied) this.repairGlobalPool();
      if (thread !== CONTROLLER_THREAD) this.i32[threadBase(thread) + STAT_LOCK_ACQUISITIONS]!++;
      this.onCriticalSection?.(thread);
      return critical();
    } finally {
      this.lock.unlock();
    }
  }

  /** Whether the lock's holder is a worker thread that died. */
  private readonly isDead = (owner: number): boolean =>
    owner < this.region.threadCapacity && Atomics.load(this.i32, this.region.threadBase(owner) + Thread.STATUS) === ThreadStatus.DEAD;

  /**
   * A holder died inside a critical section. Every step of a refill or a
   * hand-over leaves the batch list itself well formed (a batch is linked or
   * unlinked by one store of the head), but global_pool_size may be off by
   * the batch in flight, so it is recounted from the list. A batch the dead
   * thread had unlinked but not yet taken is found later by the runtime's
   * accounting for dead threads (its stacks are GLOBAL_POOL yet on no list).
   */
  protected repairGlobalPool(): void {
    let size = 0;
    this.forEachGlobalBatch((_, batchSize) => (size += batchSize));
    Atomics.store(this.i32, Header.GLOBAL_POOL_SIZE, size);
  }
}

/** QEMU 9.0's batched pool, in the policies' registry. */
export const BATCHED: PolicyDefinition<"batched"> = {
  name: "batched",
  initialPoolMaxSize: BATCHED_INITIAL_POOL_MAX_SIZE,
  usesHardCap: true,
  globalPoolCap: (hardMaxSize) => hardMaxSize,
  usesGlobalLock: true,
  hardCapStep: BATCH_MAX_SIZE,
  liftableCap: true,
  open: (region, stacks) => new BatchedPolicy(region, stacks),
};
