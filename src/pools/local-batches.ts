import * as layout from "../shared/layout.js";
import type { SharedRegion } from "../shared/region.js";
import type { StackAllocator } from "../stacks/stack-allocator.js";
import type { ListWalker } from "./policy.js";

/** Stacks per batch (COROUTINE_POOL_BATCH_MAX_SIZE). */
export const BATCH_MAX_SIZE = 128;
/** A thread's local pool holds at most two batches. */
export const LOCAL_BATCHES_MAX = 2;

// The layout names the hot paths use, as constants of this module. Used
// through the import (`t + Thread.LOCAL_SIZE_0`), each cost V8 (Node 20) a
// load through the module's import cell and a property load with a map check
// at every use, not hoisted past the stores to the shared array; a module
// constant does not. Measured, get + put on one thread: 20 ns -> 10 ns.
const { NO_SLOT, SLOT_WORDS, threadBase } = layout;
const { LOCAL_HEAD_0, LOCAL_SIZE_0, LOCAL_HEAD_1, LOCAL_SIZE_1, CLEANUP_REGISTERED, LAST_HANDED_HEAD } = layout.Thread;
const { STAT_GETS, STAT_POOL_HITS, STAT_PUTS } = layout.Thread;
const { NEXT, STATE, OWNER } = layout.Slot;
const { LOCAL_POOL, LIVE } = layout.SlotState;

/**
 * QEMU 9.0's per-thread local pool: at most two batches, no lock, and the
 * pool's hot path — a stack taken from or put onto the first batch — written
 * out once for every policy built on it (batched, elastic).
 *
 *   per thread (no lock)              .---------.---------.
 *   LOCAL_HEAD_0/1, LOCAL_SIZE_0/1    | first   | second  |   at most 2
 *                                     `---------'---------'
 *
 * A batch is an intrusive list of stacks whose head and size live in the
 * thread's slot, so size 0 means "no batch": dropping a batch is clearing
 * its words, making one is the first push onto them (after QEMU's
 * local_pool_cleanup_init_once). What lies beyond the local pool — where a
 * batch comes from when the first is empty, where a full one goes — is the
 * policy's: refillFirstBatch, getUnbatched and handOver below.
 *
 * get and put touch only the words they must, with no call on the common
 * path: a stack in a thread's local pool is already labelled with that
 * thread, so get does not write its owner again.
 */
export abstract class LocalBatches {
  protected readonly region: SharedRegion;
  protected readonly i32: Int32Array;
  /** Int32 index of stack slot 0 (the region's slotsBase), for slotBase() and the slot-list calls. */
  protected readonly slotsBase: number;
  protected readonly stacks: StackAllocator;
  /**
   * Whether an emptied first batch with no second behind it is kept for the
   * next put (elastic) instead of being dropped and made again (QEMU 9.0).
   */
  protected abstract readonly keepsEmptiedBatch: boolean;

  constructor(region: SharedRegion, stacks: StackAllocator) {
    this.region = region;
    this.i32 = region.i32;
    this.slotsBase = region.slotsBase;
    this.stacks = stacks;
  }

  /**
   * coroutine_pool_get: a stack from the first local batch; if it is empty,
   * from a batch the policy refills it with; else whatever the policy has
   * beyond batches (NO_SLOT: map a new stack).
   */
  get(thread: number): number {
    const t = threadBase(thread);
    const i32 = this.i32;
    i32[t + STAT_GETS]!++;
    let size = i32[t + LOCAL_SIZE_0]!;
    if (size === 0) {
      this.refillFirstBatch(thread);
      size = i32[t + LOCAL_SIZE_0]!;
      if (size === 0) return this.getUnbatched(thread);
    }
    const slot = i32[t + LOCAL_HEAD_0]!;
    const s = this.slotsBase + slot * SLOT_WORDS;
    i32[t + LOCAL_HEAD_0] = i32[s + NEXT]!;
    i32[t + LOCAL_SIZE_0] = size - 1;
    if (size === 1 && (!this.keepsEmptiedBatch || i32[t + LOCAL_SIZE_1] !== 0)) this.dropEmptyFirstBatch(t);
    // markLive, less the owner (see above).
    i32[s + STATE] = LIVE;
    i32[t + STAT_POOL_HITS]!++;
    return slot;
  }

  /**
   * coroutine_pool_put: onto the first local batch. A full one makes room
   * for a new first batch (retireFirstBatch); a thread's first batch
   * registers its exit cleanup once (local_pool_cleanup_init_once).
   */
  put(thread: number, slot: number): void {
    const t = threadBase(thread);
    const i32 = this.i32;
    i32[t + STAT_PUTS]!++;
    let size = i32[t + LOCAL_SIZE_0]!;
    if (size === BATCH_MAX_SIZE) {
      this.retireFirstBatch(thread);
      size = 0;
    } else if (size === 0 && i32[t + CLEANUP_REGISTERED] === 0) {
      this.registerCleanup(thread);
    }
    const s = this.slotsBase + slot * SLOT_WORDS;
    i32[s + NEXT] = i32[t + LOCAL_HEAD_0]!;
    i32[s + STATE] = LOCAL_POOL;
    i32[s + OWNER] = thread;
    i32[t + LOCAL_HEAD_0] = slot;
    i32[t + LOCAL_SIZE_0] = size + 1;
  }

  localPoolSize(thread: number): number {
    const t = threadBase(thread);
    return (Atomics.load(this.i32, t + LOCAL_SIZE_0) + Atomics.load(this.i32, t + LOCAL_SIZE_1)) >>> 0;
  }

  /** The first local batch is empty: fill it from beyond the local pool if the policy can (coroutine_pool_refill_local). */
  protected abstract refillFirstBatch(thread: number): void;

  /** No batch to take from: a stack from elsewhere, or NO_SLOT (map a new one). */
  protected abstract getUnbatched(thread: number): number;

  /** A full batch (its head slot and size) leaves the local pool: the policy keeps it or frees it. */
  protected abstract handOver(thread: number, batch: number, size: number): void;

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

  /**
   * The first local batch is full: it makes room for a new, empty first
   * batch. Kept out of put() so that put stays small enough to inline.
   */
  protected retireFirstBatch(thread: number): void {
    const t = threadBase(thread);
    const i32 = this.i32;
    if (i32[t + LOCAL_SIZE_1] !== 0) {
      // Both local batches in use: the full first one leaves the local
      // pool and the second stays where it is.
      this.handOver(thread, i32[t + LOCAL_HEAD_0]!, BATCH_MAX_SIZE);
    } else {
      // Room for a second local batch: the full one moves to second place.
      i32[t + LOCAL_HEAD_1] = i32[t + LOCAL_HEAD_0]!;
      i32[t + LOCAL_SIZE_1] = BATCH_MAX_SIZE;
    }
    i32[t + LOCAL_HEAD_0] = NO_SLOT;
    i32[t + LOCAL_SIZE_0] = 0;
  }

  /** local_pool_cleanup_init_once: the thread's exit cleanup, registered once in its life. */
  protected registerCleanup(thread: number): void {
    this.i32[threadBase(thread) + CLEANUP_REGISTERED] = 1;
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
   * Each thread's two local batches against their sizes and QEMU's limits:
   * never more than two batches, never a second without a first. Returns
   * the stacks each thread holds locally.
   */
  protected localCensus(walker: ListWalker): number[] {
    const i32 = this.i32;
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
    return local;
  }

  /** The region's slotBase(), on this module's constants. */
  protected slotBase(slot: number): number {
    return this.slotsBase + slot * SLOT_WORDS;
  }
}
