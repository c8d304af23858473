import * as layout from "../shared/layout.js";
import { CONTROLLER_THREAD, Header, NO_OWNER, Vma } from "../shared/layout.js";
import type { SharedRegion } from "../shared/region.js";
import * as slotList from "../shared/slot-list.js";
import type { StackAllocator } from "../stacks/stack-allocator.js";
import { batchedHardMaxSize, UNLIMITED_POOL_SIZE } from "../vma/limits.js";
import { BATCH_MAX_SIZE, BATCHED_INITIAL_POOL_MAX_SIZE, BatchedPolicy, CONTROLLER_LOCK_OWNER, LOCAL_BATCHES_MAX } from "./batched.js";
import type { ListWalker, PolicyDefinition, PoolCensus } from "./policy.js";

/**
 * Stacks the global pool keeps however long they sit idle: one batch, so
 * that a thread coming back after a quiet spell refills without mapping.
 */
export const ELASTIC_WORKING_SET = BATCH_MAX_SIZE;
/**
 * How long a stack must sit unused in the global pool before it is given
 * back, in ms of the run's clock (in a replay without times: pool events at
 * QEMU's pace, 8 a ms; see src/replay/replay.ts). Long
 * against a burst of I/O completions, short against a guest's quiet minutes.
 */
export const ELASTIC_DECAY_PERIOD_MS = 250;

// Module constants on the hot paths (see batched.ts for why).
const { NO_SLOT, SLOT_WORDS, threadBase } = layout;
const { LOCAL_HEAD_0, LOCAL_SIZE_0, LOCAL_HEAD_1, LOCAL_SIZE_1, CLEANUP_REGISTERED } = layout.Thread;
const { STAT_GETS, STAT_POOL_HITS, STAT_PUTS } = layout.Thread;
const { GLOBAL_POOL_HEAD, GLOBAL_POOL_SIZE, DONATED_HEAD, DONATED_SIZE, LOW_WATER, TRIM_DUE } = Header;
const { NEXT, STATE, OWNER, BATCH_SIZE, BATCH_NEXT } = layout.Slot;
const { GLOBAL_POOL, LOCAL_POOL, LIVE } = layout.SlotState;
const { popSlot, pushSlot, listLength } = slotList;

/**
 * batched (QEMU 9.0) with what it leaves on the table taken back: the same
 * local pools and global batches, the same hand-over rule, plus a list of
 * donated stacks and a decay that gives idle stacks back.
 *
 *   global pool (under the mutex)       .-------.-------.- - - - - - -.
 *   GLOBAL_POOL_HEAD/SIZE ------------> | batch | batch | batch  ...  |   full batches, as batched
 *                                       `-------'-------'- - - - - - -'
 *                                         hot (refills)      cold: decays first
 *   DONATED_HEAD/SIZE ----------------> co -> co -> co ...                exiting threads' stacks,
 *                                                                          taken one at a time
 *   per thread (no lock)                .-------.-------.
 *   LOCAL_HEAD_0/1, LOCAL_SIZE_0/1      | first | second|   at most 2, as batched
 *                                       `-------'-------'
 *   LOW_WATER, TRIM_DUE                 the decay's books (below)
 *
 * What changes against batched, and why:
 * - get reads the global sizes (atomic words) before it takes the lock: a
 *   thread never takes the lock only to find the global pool empty, and a
 *   full global pool refuses a hand-over without the lock either.
 * - An exiting thread gives its local stacks to the donated list while the
 *   global pool has room, instead of unmapping them. They are handed out one
 *   at a time, and only where batched would map a new stack: so the local
 *   pools and global batches stay exactly batched's, and the donated stacks
 *   only ever replace new mappings — never more stacks at a peak.
 * - Idle stacks are given back. Every pool operation that takes from the
 *   global pool records its low-water mark; at the end of each decay period
 *   the stacks that sat there the whole period (the low-water mark), beyond
 *   a working set of one batch, are unmapped: donated stacks first (they are
 *   surplus), then the coldest batches. The controlling thread's tick does
 *   it when the lock is free (tryLock: the main thread never waits); when it
 *   is not, it leaves the count in TRIM_DUE for the next pool operation that
 *   holds the lock. After a burst and a quiet period at most one batch stays
 *   global, and with ≤ 2 local batches a thread, at most (2 × threads + 1)
 *   batches stay mapped.
 * - A cap that bounds everything idle: batched's hard cap bounds the global
 *   pool only, and not its overshoot; this one leaves room for every
 *   thread's two local batches and one batch of overshoot, so that idle
 *   stacks never take more than (max_map_count − 5000) / 2 — at all times,
 *   and whatever `--uncapped` asks of batched's cap.
 * - A single coroutine cycling on a thread does not churn: the emptied first
 *   batch is not rebuilt from an absent second, and the exit cleanup is
 *   registered once per thread life, not at every first put.
 */
export class ElasticPolicy extends BatchedPolicy {
  override readonly name = "elastic";
  /** The global pool's limit from the OS: see elasticHardMaxSize. */
  readonly hardMaxSize: number;
  /** When the current decay period began; only the controlling thread's view ticks. */
  private periodStart = 0;
  /** Lists unlinked under the lock, to unmap once it is dropped. */
  private readonly unlinked: number[] = [];

  constructor(region: SharedRegion, stacks: StackAllocator) {
    super(region, stacks);
    this.hardMaxSize = elasticPoolCap(region.readU32(Header.HARD_MAX_SIZE), region.readU32(Vma.LIMIT), region.threadCapacity);
  }

  /**
   * The local pool, then a global batch, then one donated stack; NO_SLOT
   * means map a new one. The common case, a stack from the first local
   * batch, is written out here in full: no call, nothing but the words it
   * must touch.
   */
  override get(thread: number): number {
    const t = threadBase(thread);
    const i32 = this.i32;
    i32[t + STAT_GETS]!++;
    const size = i32[t + LOCAL_SIZE_0]!;
    if (size > 0) {
      const slot = i32[t + LOCAL_HEAD_0]!;
      const s = this.slotsBase + slot * SLOT_WORDS;
      i32[t + LOCAL_HEAD_0] = i32[s + NEXT]!;
      i32[t + LOCAL_SIZE_0] = size - 1;
      // The first batch gave its last stack: the second (if any) moves up; with none, nothing churns.
      if (size === 1 && i32[t + LOCAL_SIZE_1] !== 0) super.dropEmptyFirstBatch(t);
      // markLive, less the owner: a stack in this thread's local pool is already labelled with it.
      i32[s + STATE] = LIVE;
      i32[t + STAT_POOL_HITS]!++;
      return slot;
    }
    return this.getSlowly(thread, t);
  }

  /** get when the first local batch is empty: a global batch if the pool's size says there is one (no lock to find none). */
  private getSlowly(thread: number, t: number): number {
    const i32 = this.i32;
    if (Atomics.load(i32, GLOBAL_POOL_SIZE) !== 0) this.refillLocal(thread);
    const slot = this.getLocal(thread);
    if (slot !== NO_SLOT) {
      i32[t + STAT_POOL_HITS]!++;
      return slot;
    }
    return this.takeDonated(thread);
  }

  /**
   * batched's put; the exit cleanup is registered on the thread's first put
   * only. Onto a first batch with room, written out in full, as in get.
   */
  override put(thread: number, slot: number): void {
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

  /** The exit cleanup gives the local stacks to the global pool while it has room; the rest are freed. */
  override exitThread(thread: number): void {
    if (this.i32[threadBase(thread) + CLEANUP_REGISTERED] === 1) this.donateLocalPool(thread);
    this.forgetLocalPool(thread);
  }

  /** Stacks in the global pool: its batches and the donated stacks. */
  override globalPoolSize(): number {
    return this.globalBatchStacks() + this.donatedStacks();
  }

  override drainGlobalPool(): number {
    const freed = super.drainGlobalPool();
    const donated = this.withGlobalLock(CONTROLLER_THREAD, () => this.unlinkDonated(this.donatedStacks()));
    return freed + this.stacks.freeList(donated, CONTROLLER_THREAD);
  }

  /** batched's census, plus the donated list, and the cap on everything the global pool holds. */
  override census(walker: ListWalker): PoolCensus {
    const census = super.census(walker);
    const donated = walker.walk(this.i32[DONATED_HEAD]!, GLOBAL_POOL, NO_OWNER, "the donated stacks");
    walker.expect(donated === this.donatedStacks(), `the donated list holds ${donated} stacks but its size says ${this.donatedStacks()}`);
    const global = census.global + donated;
    walker.expect(
      global < this.hardMaxSize + BATCH_MAX_SIZE,
      `the global pool holds ${global} stacks, past elastic's cap ${this.hardMaxSize} and one batch of overshoot`,
    );
    return { ...census, global };
  }

  /**
   * A decay period ended: unmap what sat idle in the global pool for all of
   * it, beyond the working set. Takes the lock only if there is something to
   * give back, and only if it is free at once.
   */
  override tick(nowMs: number): void {
    if (nowMs - this.periodStart < ELASTIC_DECAY_PERIOD_MS) return;
    this.periodStart = nowMs;
    const i32 = this.i32;
    const idle = Atomics.load(i32, LOW_WATER);
    if (idle === 0 || this.globalPoolSize() <= ELASTIC_WORKING_SET) {
      Atomics.store(i32, LOW_WATER, this.globalPoolSize());
      return;
    }
    if (!this.lock.tryLock(CONTROLLER_LOCK_OWNER)) {
      Atomics.store(i32, TRIM_DUE, idle);
      return;
    }
    try {
      this.trimIdle(idle);
    } finally {
      this.lock.unlock();
    }
    this.freeUnlinked(CONTROLLER_THREAD);
  }

  /** Each refill lowers the low-water mark and pays any trim the tick left due. */
  protected override takeGlobalBatch(thread: number): number {
    return this.withElasticLock(thread, () => {
      const batch = this.unlinkGlobalBatch();
      this.noteLowWater();
      return batch;
    });
  }

  /**
   * A full global pool refuses a batch without the lock (it is read first);
   * a batch that joins may push the donated stacks out, since they are what
   * batched would not have kept.
   */
  protected override putGlobal(thread: number, batch: number, size: number): void {
    if (this.globalBatchStacks() >= this.globalPoolLimit()) {
      this.recordHandOver(thread, batch, false);
      return;
    }
    slotList.relabelList(this.i32, this.slotsBase, batch, GLOBAL_POOL, NO_OWNER);
    const accepted = this.withElasticLock(thread, () => {
      const joined = this.joinGlobalPool(batch, size);
      if (joined) this.pushOutDonated();
      return joined;
    });
    this.recordHandOver(thread, batch, accepted);
  }

  /** min(global_pool_max_size, elastic's cap). */
  protected override globalPoolLimit(): number {
    return Math.min(this.i32[Header.POOL_MAX_SIZE]! >>> 0, this.hardMaxSize);
  }

  /** batched's repair, and the donated list recounted too. */
  protected override repairGlobalPool(): void {
    super.repairGlobalPool();
    const donated = listLength(this.i32, this.slotsBase, this.i32[DONATED_HEAD]!, this.region.stackCapacity, "the donated list");
    Atomics.store(this.i32, DONATED_SIZE, donated);
  }

  /**
   * batched drops the emptied first batch and rebuilds it from the second;
   * with no second (a coroutine cycling alone) there is nothing to rebuild.
   */
  protected override dropEmptyFirstBatch(t: number): void {
    if (this.i32[t + LOCAL_SIZE_1] !== 0) super.dropEmptyFirstBatch(t);
  }

  /** One donated stack, where batched would map a new one; NO_SLOT if there is none. */
  private takeDonated(thread: number): number {
    if (this.donatedStacks() === 0) return NO_SLOT;
    const slot = this.withElasticLock(thread, () => {
      const taken = popSlot(this.i32, this.slotsBase, DONATED_HEAD);
      if (taken !== NO_SLOT) {
        Atomics.sub(this.i32, DONATED_SIZE, 1);
        this.noteLowWater();
      }
      return taken;
    });
    if (slot === NO_SLOT) return NO_SLOT;
    this.stacks.markLive(slot, thread);
    this.i32[threadBase(thread) + STAT_POOL_HITS]!++;
    return slot;
  }

  /**
   * Both local batches onto the donated list, as far as min(pool max, cap)
   * leaves room (no overshoot: a donation is never a whole batch's due);
   * what does not fit is freed. No room at all: freed without the lock.
   */
  private donateLocalPool(thread: number): void {
    const t = threadBase(thread);
    const i32 = this.i32;
    if (i32[t + LOCAL_SIZE_0] === 0) return;
    if (this.donationRoom() > 0) {
      this.withElasticLock(thread, () => {
        for (let room = this.donationRoom(); room > 0; room--) {
          const slot = this.popEitherLocalBatch(t);
          if (slot === NO_SLOT) break;
          pushSlot(i32, this.slotsBase, DONATED_HEAD, slot, GLOBAL_POOL, NO_OWNER);
          Atomics.add(i32, DONATED_SIZE, 1);
        }
      });
    }
    this.freeLocalPool(thread, thread);
  }

  /** A stack from the first local batch, else the second (an exiting thread's sizes no longer matter). */
  private popEitherLocalBatch(t: number): number {
    const slot = popSlot(this.i32, this.slotsBase, t + LOCAL_HEAD_0);
    return slot !== NO_SLOT ? slot : popSlot(this.i32, this.slotsBase, t + LOCAL_HEAD_1);
  }

  /** Stacks the global pool can still take without passing its limit. */
  private donationRoom(): number {
    return this.globalPoolLimit() - this.globalPoolSize();
  }

  /** Under the lock, after a batch joined: the donated stacks beyond limit + one batch's overshoot go. */
  private pushOutDonated(): void {
    const over = this.globalPoolSize() - (this.globalPoolLimit() + BATCH_MAX_SIZE - 1);
    if (over > 0) this.unlinked.push(this.unlinkDonated(Math.min(over, this.donatedStacks())));
  }

  /**
   * Under the lock: unlinks up to `idle` stacks, never going below the
   * working set: donated stacks first, then whole batches from the cold end.
   * Resets the low-water mark for the next period.
   */
  private trimIdle(idle: number): void {
    const target = Math.max(ELASTIC_WORKING_SET, this.globalPoolSize() - idle);
    const fromDonated = Math.min(this.donatedStacks(), this.globalPoolSize() - target);
    if (fromDonated > 0) this.unlinked.push(this.unlinkDonated(fromDonated));
    this.unlinkColdBatches(target - this.donatedStacks());
    Atomics.store(this.i32, TRIM_DUE, 0);
    Atomics.store(this.i32, LOW_WATER, this.globalPoolSize());
  }

  /**
   * Under the lock: keeps the hottest batches (from the head) until they
   * hold at least `keep` stacks, and unlinks every batch after them.
   */
  private unlinkColdBatches(keep: number): void {
    const i32 = this.i32;
    let kept = 0;
    let last = NO_SLOT;
    let batch = i32[GLOBAL_POOL_HEAD]!;
    for (; batch !== NO_SLOT && kept < keep; batch = i32[this.slotBase(batch) + BATCH_NEXT]!) {
      kept += i32[this.slotBase(batch) + BATCH_SIZE]!;
      last = batch;
    }
    if (batch === NO_SLOT) return;
    if (last === NO_SLOT) i32[GLOBAL_POOL_HEAD] = NO_SLOT;
    else i32[this.slotBase(last) + BATCH_NEXT] = NO_SLOT;
    for (; batch !== NO_SLOT; batch = i32[this.slotBase(batch) + BATCH_NEXT]!) {
      Atomics.sub(i32, GLOBAL_POOL_SIZE, i32[this.slotBase(batch) + BATCH_SIZE]!);
      this.unlinked.push(batch);
    }
  }

  /** Under the lock: the first `n` donated stacks, cut off the list as a list of their own. */
  private unlinkDonated(n: number): number {
    const i32 = this.i32;
    const first = i32[DONATED_HEAD]!;
    if (n <= 0 || first === NO_SLOT) return NO_SLOT;
    let last = first;
    for (let i = 1; i < n; i++) last = i32[this.slotsBase + last * SLOT_WORDS + NEXT]!;
    const lastNext = this.slotsBase + last * SLOT_WORDS + NEXT;
    i32[DONATED_HEAD] = i32[lastNext]!;
    i32[lastNext] = NO_SLOT;
    Atomics.sub(i32, DONATED_SIZE, n);
    return first;
  }

  /** Under the lock, after a take: the fewest stacks the global pool held this period. */
  private noteLowWater(): void {
    const size = this.globalPoolSize();
    if (size < Atomics.load(this.i32, LOW_WATER)) Atomics.store(this.i32, LOW_WATER, size);
  }

  /**
   * The global lock, with the trim the tick left due paid inside it, and
   * everything unlinked in it unmapped after it is dropped (a munmap is
   * never made under the lock).
   */
  private withElasticLock<T>(thread: number, critical: () => T): T {
    const result = this.withGlobalLock(thread, () => {
      const value = critical();
      const due = this.i32[TRIM_DUE]!;
      if (due > 0) this.trimIdle(due);
      return value;
    });
    this.freeUnlinked(thread);
    return result;
  }

  private freeUnlinked(freedBy: number): void {
    while (this.unlinked.length > 0) this.stacks.freeList(this.unlinked.pop()!, freedBy);
  }

  private donatedStacks(): number {
    return Atomics.load(this.i32, DONATED_SIZE) >>> 0;
  }
}

/**
 * elastic's cap on the global pool, from batched's (`osLimit`, which is
 * (max_map_count − 5000) / 2): less every thread's two local batches and one
 * batch of overshoot, so that all the idle stacks together — global pool,
 * its overshoot and every local pool — stay within batched's own budget and
 * the 5000 VMAs of headroom stay free. 0 when the threads' local pools alone
 * fill the budget: the global pool is then off, as batched's is below 5000.
 */
export function elasticHardMaxSize(osLimit: number, threads: number): number {
  return Math.max(0, osLimit - threads * LOCAL_BATCHES_MAX * BATCH_MAX_SIZE - (BATCH_MAX_SIZE - 1));
}

/**
 * elastic's cap for a region: from batched's cap as the region records it,
 * or, where `--uncapped` lifted that (UINT_MAX), from the VMA limit itself.
 */
export function elasticPoolCap(hardMaxSize: number, vmaLimit: number, threads: number): number {
  const osLimit = hardMaxSize === UNLIMITED_POOL_SIZE ? batchedHardMaxSize(vmaLimit) : hardMaxSize;
  return elasticHardMaxSize(osLimit, threads);
}

/** batched with donation, decay and a cap that bounds every idle stack, in the policies' registry. */
export const ELASTIC: PolicyDefinition<"elastic"> = {
  name: "elastic",
  initialPoolMaxSize: BATCHED_INITIAL_POOL_MAX_SIZE,
  usesHardCap: true,
  globalPoolCap: elasticPoolCap,
  // The cap meets the global pool in batched's comparison (whole batches) and, when a thread exits, in the donation's room (single stacks).
  hardCapStep: BATCH_MAX_SIZE,
  hardCapStepNeedsNoExits: true,
  usesGlobalLock: true,
  open: (region, stacks) => new ElasticPolicy(region, stacks),
};
