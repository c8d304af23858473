/**
 * The hoard phase of the worst-case schedule: legacy's worst for a thread
 * that creates coroutines another thread frees (a vCPU whose requests
 * complete in the main loop). Such a thread's alloc pool is filled only by
 * taking the whole release pool, when its own pool is empty and the release
 * pool holds more than 64 (util/qemu-coroutine.c qemu_coroutine_create() in
 * QEMU up to 8.2; src/pools/legacy.ts); it then keeps what it took. Rounds of
 * the schedule reach that state only by chance, a little more each round. A
 * guest can reach it on purpose, one vCPU after another:
 *
 *   1. drain: the vCPU starts one request at a time, each completed before
 *      the next, until its alloc pool is empty (legacy's replay of the
 *      schedule so far says how many that is);
 *   2. refill: a thread that frees its own coroutines has its most in flight
 *      and completes them, until the release pool is full (2 × pool_max_size)
 *      or stops growing;
 *   3. take: one more request: it takes the whole release pool and keeps it.
 *
 * Batched and elastic bound a thread's local pool by two batches, which the
 * rounds already reach; the phase is legacy's, replayed under every policy.
 */
import { LEGACY_INITIAL_POOL_MAX_SIZE } from "../pools/legacy.js";
import type { PolicyReplay } from "../replay/replay.js";
import type { Demand } from "./demand.js";
import type { Part, ScheduleBuilder } from "./schedule.js";

/** Threads that create coroutines some other thread frees, each with the thread that frees them. */
export function hoarders(demand: Demand): { thread: number; freedOn: number }[] {
  const found = new Map<number, number>();
  for (const s of demand.sources) {
    for (const c of s.creators) if (c !== s.terminator && !found.has(c)) found.set(c, s.terminator);
  }
  return [...found].map(([thread, freedOn]) => ({ thread, freedOn }));
}

/**
 * One pass of the hoard phase over every hoarding thread. `guide` is a
 * legacy replay fed everything written so far; `refill` the round's part of
 * the thread that frees the most of its own coroutines (null: none does).
 */
export function addHoardPass(b: ScheduleBuilder, demand: Demand, round: number, guide: PolicyReplay, refill: Part | null): void {
  const releaseCap = legacyReleasePoolCap(demand);
  for (const { thread, freedOn } of hoarders(demand)) {
    const name = demand.threads[thread]!.name;
    b.begin(round, `${name} empties its pool, one request at a time`);
    // Each request takes one pooled stack: the pool empties in as many requests as it holds.
    for (let left = guide.pooledOn(thread); left > 0; left--) oneRequest(b, thread, freedOn);
    b.end();
    // After the drain, whose completions went to the release pool too: what is taken is then a full pool.
    if (refill !== null) refillReleasePool(b, round, guide, refill, releaseCap);
    b.begin(round, `${name} takes the release pool (${guide.pooledGlobally()} stacks)`);
    oneRequest(b, thread, freedOn);
    b.end();
  }
}

/** The most stacks legacy's release pool holds: twice pool_max_size (coroutine_delete() pushes below that). */
export function legacyReleasePoolCap(demand: Demand): number {
  return 2 * (LEGACY_INITIAL_POOL_MAX_SIZE + demand.totalPoolIncrease);
}

/** The refill part again while the release pool is below its cap and still growing. */
function refillReleasePool(b: ScheduleBuilder, round: number, guide: PolicyReplay, refill: Part, releaseCap: number): void {
  const most = Math.ceil(releaseCap / Math.max(1, refill.live)) + 1;
  for (let i = 0; i < most; i++) {
    const before = guide.pooledGlobally();
    if (before >= releaseCap) return;
    b.add(round, { ...refill, name: `${refill.name}: refills the release pool` });
    if (guide.pooledGlobally() <= before) return;
  }
}

function oneRequest(b: ScheduleBuilder, creator: number, freedOn: number): void {
  b.step("create", creator, 0);
  b.step("terminate", freedOn, 0);
}
