import { drivenElasticRegion } from "./helpers/elastic-region.js";
import { describe, expect, it } from "vitest";
import { BATCH_MAX_SIZE } from "../src/pools/batched.js";
import { ELASTIC_DECAY_PERIOD_MS, ElasticPolicy, elasticHardMaxSize } from "../src/pools/elastic.js";
import { checkRegion } from "../src/pools/invariants.js";
import type { ListWalker, PoolPolicy } from "../src/pools/policy.js";
import { Header, Thread } from "../src/shared/layout.js";
import { StackAllocator } from "../src/stacks/stack-allocator.js";
import { TraceBuilder } from "./helpers/trace-builder.js";

// Hand-worked sequences for elastic: every expected number is derived in the
// comment above it from the design in src/pools/elastic.ts, and where elastic
// keeps batched's behaviour, from batched's as docs/design.md#batched-qemu-90-and-later
// states it.

const BASELINE = 1000;

/** A region under elastic driven directly, so a test can give the tick its own clock. */
function elasticRegion(threads: number, maxMapCount = 65530) {
  const driven = drivenElasticRegion(threads, maxMapCount, BASELINE, 20_000);
  return { ...driven, mapped: () => driven.region.totals().created - driven.region.totals().freed };
}

describe("elastic: batched's pools, without the lock where there is nothing to take", () => {
  it("keeps batched's local batches and hand-over, and takes the lock once for a burst of 300", () => {
    // As batched: 300 = 44 + 128 local + 128 global. The 300 creates find
    // global_pool_size 0 and map without the lock; the hand-over at the
    // 257th terminate is the only acquisition (batched: 300 + 1).
    const b = new TraceBuilder(1).burst(0, 300);
    const elastic = b.replay({ policy: "elastic" });
    const batched = b.replay({ policy: "batched" });
    expect(elastic.result).toMatchObject({ stacksCreated: 300, stacksFreed: 0, pooled: { global: 128, threads: [172] } });
    expect(elastic.globalLockAcquisitions).toBe(1);
    expect(batched.globalLockAcquisitions).toBe(301);
  });

  it("refuses a hand-over to a full global pool without the lock", () => {
    // 600 on one thread: hand-overs at 257, 385, 513; the first joins
    // (0 < 128), the other two find global_pool_size 128 = the max by its
    // word and are freed unlocked: one acquisition, 256 freed, as batched frees.
    const { result, globalLockAcquisitions } = new TraceBuilder(1).burst(0, 600).replay({ policy: "elastic" });
    expect(result).toMatchObject({ stacksCreated: 600, stacksFreed: 256, pooled: { global: 128, threads: [216] } });
    expect(globalLockAcquisitions).toBe(1);
  });

  it("a coroutine cycling alone on a thread: one stack, no lock, the cleanup registered once", () => {
    const b = new TraceBuilder(1);
    for (let i = 0; i < 1000; i++) b.burst(0, 1);
    const { result, globalLockAcquisitions, region } = b.replay({ policy: "elastic" });
    expect(result).toMatchObject({ stacksCreated: 1, stacksFreed: 0, pooled: { global: 0, threads: [1] } });
    expect(globalLockAcquisitions).toBe(0);
    expect(region.threadWord(0, Thread.CLEANUP_REGISTERED)).toBe(1);
  });
});

describe("elastic: an exiting thread's stacks go to the global pool", () => {
  it("donates both local batches while the pool has room, and hands them out where batched maps", () => {
    // inc 1000: max 1128. T0's 300: 128 global, 172 local. T0 exits: room
    // 1128 - 128 = 1000, so all 172 are donated (batched frees them).
    const b = new TraceBuilder(2).inc(1000).burst(0, 300).exit(0);
    expect(b.replay({ policy: "elastic" }).result).toMatchObject({ stacksFreed: 0, pooled: { global: 300, threads: [0, 0] } });
    expect(b.replay({ policy: "batched" }).result).toMatchObject({ stacksFreed: 172, pooled: { global: 128, threads: [0, 0] } });
    // T1 creates 200: a refill gives the 128-batch, then 72 donated stacks
    // one at a time where batched maps 72 new ones.
    b.create(1, 200);
    const elastic = b.replay({ policy: "elastic" });
    expect(elastic.result).toMatchObject({ stacksCreated: 300, stacksFreed: 0, live: 200, pooled: { global: 100, threads: [0, 0] } });
    expect(b.replay({ policy: "batched" }).result).toMatchObject({ stacksCreated: 372, live: 200 });
    // One lock for the hand-over, one for the donation, one refill, 72 donated takes.
    expect(elastic.globalLockAcquisitions).toBe(1 + 1 + 1 + 72);
  });

  it("donates only as far as the limit, with no overshoot; the rest is freed", () => {
    // inc 50: max 178. The hand-over joins (0 < 178): 128 global. At the
    // exit the room is 178 - 128 = 50: 50 donated, 122 of the 172 freed.
    const { result } = new TraceBuilder(1).inc(50).burst(0, 300).exit(0).replay({ policy: "elastic" });
    expect(result).toMatchObject({ stacksFreed: 122, pooled: { global: 178, threads: [0] } });
  });

  it("a batch handed over pushes donated stacks out past limit + one batch", () => {
    // inc 50 (max 178). T1 fills its two local batches (256). T0 creates x,
    // then bursts 300 (128 global, 172 local) and exits: 50 donated, 122
    // freed: 178 global. x terminates on T1, whose first batch is full with a
    // second behind it: the hand-over finds 128 < 178 and joins (256 in
    // batches); 256 + 50 passes 178 + 127 = 305 by one: one donated stack goes.
    const b = new TraceBuilder(2).inc(50).burst(1, 256);
    const x = b.create(0, 1);
    b.burst(0, 300).exit(0).terminate(1, x);
    const { result } = b.replay({ policy: "elastic" });
    expect(result).toMatchObject({ stacksFreed: 122 + 1, live: 0, pooled: { global: 305, threads: [0, 129] } });
  });
});

describe("elastic: idle stacks are given back over time", () => {
  it("unmaps what sat in the global pool a whole decay period, down to one batch", () => {
    // inc 2000: max 2128. T0's 1000: hand-overs at 257, 385, ..., 897 (six):
    // 768 global, 232 local (104 + 128).
    const { policy, burst, mapped, expectSound, region } = elasticRegion(2);
    policy.incPoolSize(2000);
    burst(0, 1000);
    expect([policy.globalPoolSize(), policy.localPoolSize(0)]).toEqual([768, 232]);
    // The first period's end only records the low-water mark (768); a tick
    // before the next period ends does nothing.
    policy.tick(ELASTIC_DECAY_PERIOD_MS);
    policy.tick(ELASTIC_DECAY_PERIOD_MS + 10);
    expect(mapped()).toBe(1000);
    // The next: 768 sat idle all period; everything beyond one batch goes,
    // the coldest batches first: 640 unmapped by the controlling thread.
    policy.tick(2 * ELASTIC_DECAY_PERIOD_MS);
    expect(policy.globalPoolSize()).toBe(BATCH_MAX_SIZE);
    expect(mapped()).toBe(BATCH_MAX_SIZE + 232);
    expect(region.threadWord(0, Thread.STAT_STACKS_FREED)).toBe(0);
    // With T0's two local batches and the global one: within (2 x 2 + 1) batches.
    expect(mapped()).toBeLessThanOrEqual((2 * 2 + 1) * BATCH_MAX_SIZE);
    expectSound();
  });

  it("keeps what was used during the period (the low-water mark)", () => {
    // 768 global as above. T1 takes one batch during the second period (low
    // water 640) and returns its stack to its own pool: at the period's end
    // 640 sat idle, so the pool (640) goes down to the working set, 128.
    const { policy, stacks, burst, expectSound } = elasticRegion(2);
    policy.incPoolSize(2000);
    burst(0, 1000);
    policy.tick(ELASTIC_DECAY_PERIOD_MS);
    stacks[1]!.releaseStack(stacks[1]!.acquireStack());
    expect(policy.globalPoolSize()).toBe(640);
    policy.tick(2 * ELASTIC_DECAY_PERIOD_MS);
    expect(policy.globalPoolSize()).toBe(BATCH_MAX_SIZE);
    // A refill in the third period empties it: low water 0, so nothing is idle.
    stacks[1]!.releaseStack(stacks[1]!.acquireStack()); // from T1's local batch: no refill
    burst(1, 200); // T1's 127 + a refill of the last global batch
    expect(policy.globalPoolSize()).toBe(0);
    policy.tick(3 * ELASTIC_DECAY_PERIOD_MS);
    expectSound();
  });

  it("gives donated stacks back first: they are what batched would have freed", () => {
    // inc 2000; T0's 300 then exit: 128 in a batch + 172 donated. Two
    // periods later 300 sat idle: target max(128, 0) = 128; all 172 donated
    // go first, then nothing more (the batch is the working set).
    const { policy, stacks, burst, mapped, expectSound } = elasticRegion(2);
    policy.incPoolSize(2000);
    burst(0, 300);
    stacks[0]!.exit();
    expect(policy.globalPoolSize()).toBe(300);
    policy.tick(ELASTIC_DECAY_PERIOD_MS);
    policy.tick(2 * ELASTIC_DECAY_PERIOD_MS);
    expect(policy.globalPoolSize()).toBe(BATCH_MAX_SIZE);
    expect(mapped()).toBe(BATCH_MAX_SIZE);
    expectSound();
  });

  it("never waits for the lock on the controlling thread: a busy lock leaves the trim to the next holder", () => {
    const { policy, stacks, burst, expectSound, region } = elasticRegion(2);
    policy.incPoolSize(2000);
    burst(0, 1000);
    policy.tick(ELASTIC_DECAY_PERIOD_MS);
    // Someone holds the lock when the period ends: the tick leaves 768 due.
    expect(policy.lock.tryLock(42)).toBe(true);
    policy.tick(2 * ELASTIC_DECAY_PERIOD_MS);
    policy.lock.unlock();
    expect(region.readU32(Header.TRIM_DUE)).toBe(768);
    expect(policy.globalPoolSize()).toBe(768);
    // T1's first create refills under the lock (640 left) and pays the due
    // trim there: down to 128; T1 unmaps the 512, counted as its own frees.
    stacks[1]!.releaseStack(stacks[1]!.acquireStack());
    expect(policy.globalPoolSize()).toBe(BATCH_MAX_SIZE);
    expect(region.readU32(Header.TRIM_DUE)).toBe(0);
    expect(region.threadWord(1, Thread.STAT_STACKS_FREED)).toBe(512);
    expectSound();
  });
});

describe("elastic: the decay's clock runs only while something can decay (the patch's timer)", () => {
  it("stops when the pool is back within its working set, and starts a fresh period when it grows past it", () => {
    // 768 global, trimmed to 128 at 500 as above: the pool is within its
    // working set, so the clock stops.
    const { policy, burst, expectSound } = elasticRegion(2);
    policy.incPoolSize(2000);
    burst(0, 1000);
    policy.tick(ELASTIC_DECAY_PERIOD_MS);
    policy.tick(2 * ELASTIC_DECAY_PERIOD_MS);
    expect(policy.globalPoolSize()).toBe(BATCH_MAX_SIZE);
    // T1's 1000: its first create refills the last global batch (low water
    // 0), and six hand-overs bring the pool to 768 again.
    burst(1, 1000);
    expect(policy.globalPoolSize()).toBe(768);
    // The tick at 600 finds it past the working set: a period starts there,
    // not at 500. It ends at 850 with low water 0 (no trim); had the clock
    // run on from 500, that end would be at 750 and the trim at 1000.
    policy.tick(600);
    policy.tick(750);
    policy.tick(850);
    policy.tick(1000);
    expect(policy.globalPoolSize()).toBe(768);
    // The period from 850 ends at 1100: 768 sat idle all of it.
    policy.tick(1100);
    expect(policy.globalPoolSize()).toBe(BATCH_MAX_SIZE);
    expectSound();
  });

  it("a period's end can be called by QEMU's own timer (endDecayPeriod), whatever the clock says", () => {
    const { policy, burst, expectSound } = elasticRegion(1);
    policy.incPoolSize(2000);
    burst(0, 1000);
    // Two ends 1 ms apart: the first records the low-water mark, the second trims.
    policy.endDecayPeriod(10);
    expect(policy.globalPoolSize()).toBe(768);
    policy.endDecayPeriod(11);
    expect(policy.globalPoolSize()).toBe(BATCH_MAX_SIZE);
    expectSound();
  });
});

describe("elastic: a cap that bounds every idle stack", () => {
  it("leaves every thread's two batches and one batch of overshoot out of batched's budget", () => {
    // 65530: batched's cap (65530 - 5000) / 2 = 30265; 4 threads keep up to
    // 4 x 256 locally and the pool may overshoot by 127: 30265 - 1024 - 127.
    expect(elasticHardMaxSize(30265, 4)).toBe(29114);
    expect(elasticHardMaxSize(300, 1)).toBe(0);
  });

  it("caps the global pool so that pools never hold more than (max_map_count - 5000) / 2", () => {
    // max_map_count 6022: batched's cap 511, elastic's 511 - 256 - 127 = 128.
    // inc 1000, 600 on one thread: hand-overs at 257, 385, 513. batched keeps
    // all three (0, 128, 256 < 511); elastic the first only.
    const b = new TraceBuilder(1).inc(1000).burst(0, 600);
    expect(b.replay({ policy: "batched", maxMapCount: 6022 }).result).toMatchObject({ stacksFreed: 0, pooled: { global: 384, threads: [216] } });
    const elastic = b.replay({ policy: "elastic", maxMapCount: 6022 }).result;
    expect(elastic).toMatchObject({ stacksFreed: 256, pooled: { global: 128, threads: [216] } });
    expect(elastic.pooled.global + elastic.pooled.threads[0]!).toBeLessThanOrEqual((6022 - 5000) / 2);
    // --uncapped lifts batched's cap (QEMU's parser bug), never elastic's.
    expect(b.replay({ policy: "elastic", maxMapCount: 6022, uncapped: true }).result).toEqual(elastic);
  });
});

describe("elastic: the decay never lands inside a walk of the region", () => {
  /**
   * The policy as the invariant checker sees it on worker thread 0 at a phase
   * boundary, with the main thread's sampler firing `tick` in the middle of
   * the walk: just before it walks global batch 1. The other threads wait at
   * the barrier, but the main thread is not one of them.
   */
  function tickingDuringWalk(policy: ElasticPolicy, tick: () => void): PoolPolicy {
    const view = Object.create(policy) as ElasticPolicy;
    view.census = (walker: ListWalker) =>
      policy.census({
        walk: (head, state, owner, where) => {
          if (where === "global batch 1") tick();
          return walker.walk(head, state, owner, where);
        },
        expect: (ok, message) => walker.expect(ok, message),
      });
    return view;
  }

  it("a tick during a phase boundary's check leaves the trim due; the walk sees the pool whole", () => {
    // 768 global (six batches) and 232 local, as above; the first period's
    // end records the low-water mark. The second period ends while thread 0
    // walks the global batches: before the fix the main thread's view
    // unlinked batches 1-5 and unmapped them under the walk (their slots
    // FREE inside "global batch 1", created - freed 640 short of what was
    // counted). Now the tick finds the region held and leaves 768 due.
    const { region, policy, burst, expectSound } = elasticRegion(2);
    const controller = new ElasticPolicy(region, new StackAllocator(region));
    policy.incPoolSize(2000);
    burst(0, 1000);
    controller.tick(ELASTIC_DECAY_PERIOD_MS);
    const census = checkRegion(region, 0, tickingDuringWalk(policy, () => controller.tick(2 * ELASTIC_DECAY_PERIOD_MS)));
    expect(census.violations).toEqual([]);
    expect(census.inGlobalPool).toBe(768);
    expect(region.totals().freed).toBe(0);
    expect(region.readU32(Header.TRIM_DUE)).toBe(768);
    // The walk is over and the gate open again: the next period's tick trims on the main thread, 768 -> 128.
    controller.tick(3 * ELASTIC_DECAY_PERIOD_MS);
    expect(policy.globalPoolSize()).toBe(BATCH_MAX_SIZE);
    expect(region.totals().freed).toBe(640);
    expect(region.readU32(Header.TRIM_DUE)).toBe(0);
    expectSound();
  });
});
