import * as layout from "../shared/layout.js";
import { CONTROLLER_THREAD, Header, NO_OWNER, Totals } from "../shared/layout.js";
import type { SharedRegion } from "../shared/region.js";
import * as slotList from "../shared/slot-list.js";
import type { StackAllocator } from "../stacks/stack-allocator.js";
import { unusedMutexStats, type MutexStats } from "../sync/futex-mutex.js";
import { u32, type ListWalker, type PolicyDefinition, type PoolCensus, type PoolPolicy } from "./policy.js";

/** The release pool is taken whole only when it holds more than this (POOL_MIN_BATCH_SIZE). */
export const RELEASE_POOL_TAKE_THRESHOLD = 64;
/** pool_max_size before any device raises it (POOL_INITIAL_MAX_SIZE). */
export const LEGACY_INITIAL_POOL_MAX_SIZE = 64;

// The layout names the hot paths use, as constants of this module rather than
// imported bindings (see batched.ts for why, and what that bought).
const { NO_SLOT, threadBase } = layout;
const { LOCAL_HEAD_0, LOCAL_SIZE_0, CLEANUP_REGISTERED, STAT_GETS, STAT_POOL_HITS, STAT_PUTS, STAT_REFILLS, STAT_STACKS_LEAKED } =
  layout.Thread;
const { LOCAL_POOL, GLOBAL_POOL, LEAKED } = layout.SlotState;
const { labelSlot, popSlot, pushSlot, pushSlotAtomic, relabelList, takeList } = slotList;

/**
 * QEMU up to 8.2: a global lock-free release pool and a private alloc pool
 * per thread.
 *
 *   release pool (lock-free LIFO)      GLOBAL_POOL_HEAD -> co -> co -> ...
 *     size: GLOBAL_POOL_SIZE, CAS push, taken whole with exchange
 *   alloc pool (one per thread)        LOCAL_HEAD_0 -> co -> co -> ...
 *     size: LOCAL_SIZE_0
 *
 * Why it exhausts VMAs: every thread's alloc pool may grow to pool_max_size
 * and the release pool to 2 × pool_max_size, and a thread that once had a
 * burst keeps its stacks however idle it becomes, while other threads map new
 * ones. Devices raise pool_max_size by num_queues × queue_size / 2 each.
 */
export class LegacyPolicy implements PoolPolicy {
  readonly name = "legacy" as const;
  /** Never called: the release pool is lock-free and nothing else is shared. */
  onCriticalSection: ((thread: number) => void) | null = null;
  private readonly i32: Int32Array;
  private readonly i64: BigInt64Array;
  /** Int32 index of stack slot 0 (the region's slotsBase), for the slot-list calls. */
  private readonly slotsBase: number;
  private readonly stacks: StackAllocator;
  private readonly threadCapacity: number;

  constructor(region: SharedRegion, stacks: StackAllocator) {
    this.threadCapacity = region.threadCapacity;
    this.i32 = region.i32;
    this.i64 = region.i64;
    this.slotsBase = region.slotsBase;
    this.stacks = stacks;
  }

  /**
   * The pool half of qemu_coroutine_create. The alloc pool's emptiness is
   * judged by its list head and its size is only a counter, as in QEMU: under
   * concurrency the size taken from the release pool can be skewed from the
   * list actually moved, and that skew is reproduced, not corrected.
   */
  get(thread: number): number {
    const t = threadBase(thread);
    const i32 = this.i32;
    i32[t + STAT_GETS]!++;
    if (i32[t + LOCAL_HEAD_0] === NO_SLOT && this.releasePoolSize() > RELEASE_POOL_TAKE_THRESHOLD) {
      this.takeReleasePool(thread);
    }
    const slot = popSlot(i32, this.slotsBase, t + LOCAL_HEAD_0);
    if (slot === NO_SLOT) return NO_SLOT;
    i32[t + LOCAL_SIZE_0] = u32(i32[t + LOCAL_SIZE_0]! - 1) | 0;
    i32[t + STAT_POOL_HITS]!++;
    this.stacks.markLive(slot, thread);
    return slot;
  }

  /**
   * coroutine_delete: the release pool while it is below 2 × pool_max_size,
   * else the alloc pool while it is below pool_max_size, else free. The
   * doubling is unsigned arithmetic, so it wraps like QEMU's.
   */
  put(thread: number, slot: number): void {
    const t = threadBase(thread);
    const i32 = this.i32;
    i32[t + STAT_PUTS]!++;
    const maxSize = this.poolMaxSize();
    if (this.releasePoolSize() < u32(maxSize * 2)) {
      this.pushReleasePool(slot);
      return;
    }
    if (u32(i32[t + LOCAL_SIZE_0]!) < maxSize) {
      this.pushAllocPool(thread, slot);
      return;
    }
    this.stacks.free(slot, thread);
  }

  /**
   * coroutine_pool_cleanup, if the thread ever registered it. It is registered
   * only on the slow path of get (taking the release pool), so a thread that
   * filled its alloc pool without ever taking that path leaks it at exit: the
   * stacks stay mapped and nothing can reach them. Faithful, and counted.
   */
  exitThread(thread: number): void {
    const t = threadBase(thread);
    const i32 = this.i32;
    const head = i32[t + LOCAL_HEAD_0]!;
    if (i32[t + CLEANUP_REGISTERED] === 1) {
      this.stacks.freeList(head, thread);
    } else {
      this.leakList(thread, head);
    }
    this.forgetAllocPool(thread);
  }

  incPoolSize(n: number): void {
    this.addPoolMaxSize(n);
  }

  decPoolSize(n: number): void {
    this.addPoolMaxSize(-n);
  }

  globalPoolSize(): number {
    return this.releasePoolSize();
  }

  localPoolSize(thread: number): number {
    return Atomics.load(this.i32, threadBase(thread) + LOCAL_SIZE_0) >>> 0;
  }

  drainGlobalPool(): number {
    Atomics.store(this.i32, Header.GLOBAL_POOL_SIZE, 0);
    return this.stacks.freeList(takeList(this.i32, Header.GLOBAL_POOL_HEAD), CONTROLLER_THREAD);
  }

  /** Its alloc pool is freed whether or not the cleanup was registered: nothing else could reach it. */
  reclaimDeadThread(thread: number): number {
    const t = threadBase(thread);
    const freed = this.stacks.freeList(this.i32[t + LOCAL_HEAD_0]!, CONTROLLER_THREAD);
    this.forgetAllocPool(thread);
    return freed;
  }

  /**
   * The release pool and each alloc pool, one list each. Their sizes are
   * QEMU's heuristics (see get and pushReleasePool), so how far each is from
   * its list is reported as skew, not checked.
   */
  census(walker: ListWalker): PoolCensus {
    const i32 = this.i32;
    const global = walker.walk(i32[Header.GLOBAL_POOL_HEAD]!, GLOBAL_POOL, NO_OWNER, "the release pool");
    const local: number[] = [];
    const localSizeSkew: number[] = [];
    for (let thread = 0; thread < this.threadCapacity; thread++) {
      const t = threadBase(thread);
      const n = walker.walk(i32[t + LOCAL_HEAD_0]!, LOCAL_POOL, thread, `T${thread}'s alloc pool`);
      local.push(n);
      localSizeSkew.push((i32[t + LOCAL_SIZE_0]! | 0) - n);
    }
    return { global, local, globalSizeSkew: this.releasePoolSize() - global, localSizeSkew };
  }

  /** Nothing to do with time: what is pooled stays pooled (QEMU's own behaviour). */
  tick(): void {}

  lockStats(): MutexStats {
    return unusedMutexStats();
  }

  private poolMaxSize(): number {
    return Atomics.load(this.i32, Header.POOL_MAX_SIZE) >>> 0;
  }

  private releasePoolSize(): number {
    return Atomics.load(this.i32, Header.GLOBAL_POOL_SIZE) >>> 0;
  }

  /** qatomic_add / qatomic_sub on an unsigned int. */
  private addPoolMaxSize(delta: number): void {
    Atomics.add(this.i32, Header.POOL_MAX_SIZE, delta | 0);
  }

  /** QSLIST_INSERT_HEAD_ATOMIC, then the size: the same order (and skew) as QEMU. */
  private pushReleasePool(slot: number): void {
    const i32 = this.i32;
    labelSlot(i32, this.slotsBase, slot, GLOBAL_POOL, NO_OWNER);
    pushSlotAtomic(i32, this.slotsBase, Header.GLOBAL_POOL_HEAD, slot);
    Atomics.add(i32, Header.GLOBAL_POOL_SIZE, 1);
  }

  /** QSLIST_INSERT_HEAD onto the thread's own alloc pool: no atomics, no other writer. */
  private pushAllocPool(thread: number, slot: number): void {
    const t = threadBase(thread);
    const i32 = this.i32;
    pushSlot(i32, this.slotsBase, t + LOCAL_HEAD_0, slot, LOCAL_POOL, thread);
    i32[t + LOCAL_SIZE_0] = u32(i32[t + LOCAL_SIZE_0]! + 1) | 0;
  }

  /**
   * The slow path: register the exit cleanup, then take the whole release pool
   * (size exchanged with 0, then the list moved) into the alloc pool. A push
   * never pops single entries, so this exchange-all list has no ABA problem.
   */
  private takeReleasePool(thread: number): void {
    const t = threadBase(thread);
    const i32 = this.i32;
    i32[t + CLEANUP_REGISTERED] = 1;
    i32[t + LOCAL_SIZE_0] = Atomics.exchange(i32, Header.GLOBAL_POOL_SIZE, 0);
    const head = takeList(i32, Header.GLOBAL_POOL_HEAD);
    i32[t + LOCAL_HEAD_0] = head;
    i32[t + STAT_REFILLS]!++;
    relabelList(i32, this.slotsBase, head, LOCAL_POOL, thread);
  }

  /** The stacks of an exiting thread whose cleanup was never registered. */
  private leakList(thread: number, head: number): void {
    const n = relabelList(this.i32, this.slotsBase, head, LEAKED, NO_OWNER);
    this.i32[threadBase(thread) + STAT_STACKS_LEAKED]! += n;
    Atomics.add(this.i64, Totals.STACKS_LEAKED, BigInt(n));
  }

  /** The thread starts afresh: an empty alloc pool, no cleanup registered. */
  private forgetAllocPool(thread: number): void {
    const t = threadBase(thread);
    const i32 = this.i32;
    i32[t + LOCAL_HEAD_0] = NO_SLOT;
    i32[t + LOCAL_SIZE_0] = 0;
    i32[t + CLEANUP_REGISTERED] = 0;
  }
}

/** QEMU up to 8.2, in the policies' registry. */
export const LEGACY: PolicyDefinition<"legacy"> = {
  name: "legacy",
  initialPoolMaxSize: LEGACY_INITIAL_POOL_MAX_SIZE,
  usesHardCap: false,
  globalPoolCap: null,
  usesGlobalLock: false,
  open: (region, stacks) => new LegacyPolicy(region, stacks),
};
