import * as layout from "../shared/layout.js";
import { CONTROLLER_THREAD, Header, MUTEX_I32_BASE, MUTEX_I64_BASE, NO_OWNER, Thread, ThreadStatus } from "../shared/layout.js";
import type { SharedRegion } from "../shared/region.js";
import * as slotList from "../shared/slot-list.js";
import type { StackAllocator } from "../stacks/stack-allocator.js";
import { FutexMutex, type MutexStats } from "../sync/futex-mutex.js";
import { BATCH_MAX_SIZE, LocalBatches } from "./local-batches.js";
import { u32, type ListWalker, type PolicyDefinition, type PoolCensus, type PoolPolicy } from "./policy.js";

export { BATCH_MAX_SIZE, LOCAL_BATCHES_MAX } from "./local-batches.js";

/** Lock owner id recorded when the controlling (main) thread holds the lock. */
export const CONTROLLER_LOCK_OWNER = 0x7ffffffe;

/** global_pool_max_size before any device raises it. */
export const BATCHED_INITIAL_POOL_MAX_SIZE = 128;

// Module constants on the paths that run per batch (see local-batches.ts for why).
const { NO_SLOT, threadBase } = layout;
const { LOCAL_HEAD_0, LOCAL_SIZE_0, CLEANUP_REGISTERED, LAST_HANDED_HEAD } = layout.Thread;
const { STAT_REFILLS, STAT_BOUNCES, STAT_HAND_OVERS, STAT_HAND_OVER_DISCARDS, STAT_LOCK_ACQUISITIONS } = layout.Thread;
const { BATCH_SIZE, BATCH_NEXT } = layout.Slot;
const { LOCAL_POOL, GLOBAL_POOL } = layout.SlotState;
const { relabelList } = slotList;

/**
 * QEMU 9.0's pool: a global pool of batches under a lock, and per-thread local
 * pools of at most two batches (local-batches.ts: their get and put).
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
 * a batch the moment its last stack is taken (keepsEmptiedBatch is false),
 * so size 0 means "no batch", and the next put makes a new one.
 *
 * The lock is taken once per batch (refill or hand-over), never per coroutine.
 */
export class BatchedPolicy extends LocalBatches implements PoolPolicy {
  readonly name: string = "batched";
  readonly lock: FutexMutex;
  protected readonly keepsEmptiedBatch: boolean = false;

  constructor(region: SharedRegion, stacks: StackAllocator) {
    super(region, stacks);
    this.lock = new FutexMutex(region.i32, MUTEX_I32_BASE, region.i64, MUTEX_I64_BASE);
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
   * against global_pool_size, and each thread's two local batches (localCensus).
   */
  census(walker: ListWalker): PoolCensus {
    let global = 0;
    const complete = this.forEachGlobalBatch((batch, recorded, index) => {
      const n = walker.walk(batch, GLOBAL_POOL, NO_OWNER, `global batch ${index}`);
      walker.expect(n === recorded, `global batch ${index} holds ${n} stacks but its head says ${recorded}`);
      global += n;
    });
    const recordedGlobal = this.globalBatchStacks();
    if (!complete) walker.expect(false, "the global batch list has a cycle");
    else walker.expect(global === recordedGlobal, `global pool holds ${global} stacks but global_pool_size says ${recordedGlobal}`);
    const local = this.localCensus(walker);
    return { global, local, globalSizeSkew: 0, localSizeSkew: local.map(() => 0) };
  }

  /** Nothing to do with time: what is pooled stays pooled (QEMU's own behaviour). */
  tick(_nowMs: number): void {}

  lockStats(): MutexStats {
    return this.lock.stats();
  }

  /** coroutine_pool_refill_local: take the first global batch, if there is one (under the lock, even to find none). */
  protected refillFirstBatch(thread: number): void {
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

  /** Nothing beyond the batches: the caller maps a new stack. */
  protected getUnbatched(_thread: number): number {
    return NO_SLOT;
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
  protected handOver(thread: number, batch: number, size: number): void {
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
