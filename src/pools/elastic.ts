import * as layout from "../shared/layout.js";
import { CONTROLLER_THREAD, DECAY_PERIOD_START_I64, Header, NO_OWNER, Vma } from "../shared/layout.js";
import type { SharedRegion } from "../shared/region.js";
import * as slotList from "../shared/slot-list.js";
import type { StackAllocator } from "../stacks/stack-allocator.js";
import { batchedHardMaxSize, UNLIMITED_POOL_SIZE } from "../vma/limits.js";
import { BATCH_MAX_SIZE, BATCHED_INITIAL_POOL_MAX_SIZE, BatchedPolicy, CONTROLLER_LOCK_OWNER, LOCAL_BATCHES_MAX } from "./batched.js";
import { leaveDecay, tryEnterDecay } from "./decay-gate.js";
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
/**
 * The decay's period start while no period runs: the global pool holds no
 * more than the working set, so nothing can decay, and (as the patch's timer
 * is disarmed) no clock runs until the pool grows past it again. A region
 * starts with 0, as if armed at time 0: its first period end only records
 * the low-water mark, as the patch's first timer fire does.
 */
const DISARMED = Number.NaN;

// Module constants on the paths that run per batch (see local-batches.ts for why).
const { NO_SLOT, SLOT_WORDS, threadBase } = layout;
const { LOCAL_HEAD_0, LOCAL_SIZE_0, LOCAL_HEAD_1, CLEANUP_REGISTERED, STAT_POOL_HITS } = layout.Thread;
const { GLOBAL_POOL_HEAD, GLOBAL_POOL_SIZE, DONATED_HEAD, DONATED_SIZE, LOW_WATER, TRIM_DUE, LOCAL_POOL_HOLDERS } = Header;
const { NEXT, BATCH_SIZE, BATCH_NEXT } = layout.Slot;
const { GLOBAL_POOL } = layout.SlotState;
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
 *   LOW_WATER, TRIM_DUE,                the decay's books (below)
 *   DECAY_PERIOD_START (64-bit word)
 *   LOCAL_POOL_HOLDERS                  threads holding a local pool: the cap counts them
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
 *   batches stay mapped. The clock follows the C patch (qemu/patches/): it
 *   runs only while the global pool holds more than the working set — the
 *   first tick that finds it past the working set starts a period, and a
 *   period that ends with the pool back within it stops the clock — so an
 *   idle pool has no period running, as the patch's main-loop timer is
 *   disarmed then. QEMU programs without a main loop never arm that timer
 *   and never decay; coropool's runtime and replay always have a clock.
 * - A cap that bounds everything idle: batched's hard cap bounds the global
 *   pool only, and not its overshoot; this one leaves room for the two local
 *   batches of every thread that holds a local pool now and one batch of
 *   overshoot, so that at each hand-over and donation the global pool and
 *   those local pools stay within (max_map_count − 5000) / 2, whatever
 *   `--uncapped` asks of batched's cap. A thread holds a local pool from its
 *   exit cleanup's registration (first put or refill) until the cleanup runs
 *   (or its death is reclaimed): the count is the run's, never the region's
 *   thread slots (elasticHardMaxSize says why). A thread that takes a local
 *   pool later lowers the cap from then on; what the global pool already
 *   holds stays (within the budget itself) until it is taken or decays.
 * - A single coroutine cycling on a thread does not churn: the emptied first
 *   batch is kept for the next put (keepsEmptiedBatch) instead of being
 *   dropped and made again; with a second batch behind it, that one moves up
 *   as in batched.
 * - The decay's clock and the holders' count live in the region, like every
 *   other word of the policy: a view opened on a grown replay region carries on.
 */
export class ElasticPolicy extends BatchedPolicy {
  override readonly name = "elastic";
  protected override readonly keepsEmptiedBatch = true;
  /**
   * What all idle stacks together may take: batched's cap,
   * (max_map_count − 5000) / 2, read correctly whatever `--uncapped` did to
   * batched's (see elasticPoolCap).
   */
  readonly idleBudget: number;
  /** The region's word holding when the current decay period began (only the controlling thread's view ticks). */
  private readonly periodStartWord: Float64Array;
  /** That word's value, as this view last read or wrote it: the tick compares with it at every call. */
  private periodStart: number;
  /** Lists unlinked under the lock, to unmap once it is dropped. */
  private readonly unlinked: number[] = [];

  constructor(region: SharedRegion, stacks: StackAllocator) {
    super(region, stacks);
    this.idleBudget = elasticIdleBudget(region.readU32(Header.HARD_MAX_SIZE), region.readU32(Vma.LIMIT));
    this.periodStartWord = new Float64Array(region.i64.buffer, region.i64.byteOffset + DECAY_PERIOD_START_I64 * 8, 1);
    this.periodStart = this.periodStartWord[0]!;
  }

  /** The global pool's cap now: the idle budget less the local batches of the threads that hold a local pool (elasticHardMaxSize). */
  get hardMaxSize(): number {
    return elasticHardMaxSize(this.idleBudget, this.localPoolHolders());
  }

  /** Threads whose local pool exists now: exit cleanup registered, not yet run (Header.LOCAL_POOL_HOLDERS). */
  localPoolHolders(): number {
    return Atomics.load(this.i32, LOCAL_POOL_HOLDERS);
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

  /** batched's census, plus the donated list, and the budget on everything the global pool holds. */
  override census(walker: ListWalker): PoolCensus {
    const census = super.census(walker);
    const donated = walker.walk(this.i32[DONATED_HEAD]!, GLOBAL_POOL, NO_OWNER, "the donated stacks");
    walker.expect(donated === this.donatedStacks(), `the donated list holds ${donated} stacks but its size says ${this.donatedStacks()}`);
    const global = census.global + donated;
    // Each hand-over and donation kept the pool within the cap of its moment and one batch of overshoot;
    // threads that took a local pool since have lowered the cap, so what holds at all times is the budget.
    walker.expect(global <= this.idleBudget, `the global pool holds ${global} stacks, past elastic's idle budget ${this.idleBudget}`);
    return { ...census, global };
  }

  /**
   * A decay period ended: unmap what sat idle in the global pool for all of
   * it, beyond the working set. Takes the lock only if there is something to
   * give back, and only if it is free at once.
   *
   * The tick runs on the main thread, which no barrier stops: while a phase
   * boundary's check walks the region on worker thread 0, a trim here would
   * unlink and unmap the batches under the walk (decay-gate.ts tells the
   * race). So the trim passes the decay gate, from before the lock until its
   * last unmap; a check holding the gate leaves the trim due, as a busy lock does.
   */
  override tick(nowMs: number): void {
    if (Number.isNaN(this.periodStart)) {
      if (this.globalPoolSize() > ELASTIC_WORKING_SET) this.startPeriod(nowMs);
      return;
    }
    if (nowMs - this.periodStart >= ELASTIC_DECAY_PERIOD_MS) this.endDecayPeriod(nowMs);
  }

  /**
   * A decay period ends now, whatever the clock says: QEMU's decay timer
   * fired (the replay of a patched QEMU's log calls this at each of its
   * decay events), or the tick found the period over. The decay stays armed
   * for another period while the global pool holds more than the working
   * set (or a trim is left due), and is disarmed otherwise, as the patch's
   * timer is: an idle pool has no clock running.
   */
  endDecayPeriod(nowMs: number): void {
    const i32 = this.i32;
    const idle = Atomics.load(i32, LOW_WATER);
    let due = false;
    if (idle === 0 || this.globalPoolSize() <= ELASTIC_WORKING_SET) {
      Atomics.store(i32, LOW_WATER, this.globalPoolSize());
    } else if (!tryEnterDecay(i32)) {
      Atomics.store(i32, TRIM_DUE, idle);
      due = true;
    } else {
      try {
        due = !this.trimIdleUnlessLocked(idle);
      } finally {
        leaveDecay(i32);
      }
    }
    this.startPeriod(due || this.globalPoolSize() > ELASTIC_WORKING_SET ? nowMs : DISARMED);
  }

  /** The decay's clock: the current period began at `nowMs`, or DISARMED (NaN). */
  private startPeriod(nowMs: number): void {
    this.periodStart = nowMs;
    this.periodStartWord[0] = nowMs;
  }

  /** The tick's trim, inside the decay gate: unlinked under the lock if it is free at once (else left due: false), unmapped after it. */
  private trimIdleUnlessLocked(idle: number): boolean {
    if (!this.lock.tryLock(CONTROLLER_LOCK_OWNER)) {
      Atomics.store(this.i32, TRIM_DUE, idle);
      return false;
    }
    try {
      this.trimIdle(idle);
    } finally {
      this.lock.unlock();
    }
    this.freeUnlinked(CONTROLLER_THREAD);
    return true;
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
  protected override handOver(thread: number, batch: number, size: number): void {
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

  /** min(global_pool_max_size, elastic's cap for the threads holding a local pool now). */
  protected override globalPoolLimit(): number {
    return Math.min(this.i32[Header.POOL_MAX_SIZE]! >>> 0, this.hardMaxSize);
  }

  /** A global batch only if the pool's size word says there is one: no lock to find none. */
  protected override refillFirstBatch(thread: number): void {
    if (Atomics.load(this.i32, GLOBAL_POOL_SIZE) !== 0) super.refillFirstBatch(thread);
  }

  /** No batch anywhere: one donated stack, where batched would map a new one. */
  protected override getUnbatched(thread: number): number {
    return this.takeDonated(thread);
  }

  /** Registered once in a thread's life (as 9.0's init_once); the thread now holds a local pool. */
  protected override registerCleanup(thread: number): void {
    if (this.i32[threadBase(thread) + CLEANUP_REGISTERED] === 1) return;
    super.registerCleanup(thread);
    Atomics.add(this.i32, LOCAL_POOL_HOLDERS, 1);
  }

  /** The thread's local pool is gone (its cleanup ran, or it died): it no longer holds one. */
  protected override forgetLocalPool(thread: number): void {
    if (this.i32[threadBase(thread) + CLEANUP_REGISTERED] === 1) Atomics.sub(this.i32, LOCAL_POOL_HOLDERS, 1);
    super.forgetLocalPool(thread);
  }

  /** batched's repair, and the donated list recounted too. */
  protected override repairGlobalPool(): void {
    super.repairGlobalPool();
    const donated = listLength(this.i32, this.slotsBase, this.i32[DONATED_HEAD]!, this.region.stackCapacity, "the donated list");
    Atomics.store(this.i32, DONATED_SIZE, donated);
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
 * elastic's cap on the global pool, from its idle budget (batched's cap,
 * (max_map_count − 5000) / 2): less the two local batches of each of the
 * `holders` threads that hold a local pool now, and one batch of overshoot,
 * so that the global pool, its overshoot and those local pools together stay
 * within batched's own budget and the 5000 VMAs of headroom stay free. 0
 * when the local pools alone fill the budget: the global pool is then off,
 * as batched's is below 5000.
 *
 * Why holders, not thread slots: a count of slots is the storage's (a
 * streamed replay grows them as it goes), while the threads holding a local
 * pool are the run's own, and QEMU can keep the count the same way — its
 * per-thread flag already exists (the pool's exit notifier is registered,
 * local_pool_cleanup_init_once), and a global counter goes up where the flag
 * is set and down in local_pool_cleanup.
 */
export function elasticHardMaxSize(idleBudget: number, holders: number): number {
  return Math.max(0, idleBudget - holders * LOCAL_BATCHES_MAX * BATCH_MAX_SIZE - (BATCH_MAX_SIZE - 1));
}

/**
 * What elastic's idle stacks may take, for a region: batched's cap as the
 * region records it, or, where `--uncapped` lifted that (UINT_MAX), from the
 * VMA limit itself.
 */
export function elasticIdleBudget(hardMaxSize: number, vmaLimit: number): number {
  return hardMaxSize === UNLIMITED_POOL_SIZE ? batchedHardMaxSize(vmaLimit) : hardMaxSize;
}

/** elastic's cap for a region with `holders` threads holding a local pool (the registry's globalPoolCap). */
export function elasticPoolCap(hardMaxSize: number, vmaLimit: number, holders: number): number {
  return elasticHardMaxSize(elasticIdleBudget(hardMaxSize, vmaLimit), holders);
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
