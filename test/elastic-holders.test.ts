import { describe, expect, it } from "vitest";
import { BATCH_MAX_SIZE } from "../src/pools/batched.js";
import { ELASTIC_DECAY_PERIOD_MS, ElasticPolicy } from "../src/pools/elastic.js";
import { checkRegion } from "../src/pools/invariants.js";
import { Header } from "../src/shared/layout.js";
import { StackAllocator } from "../src/stacks/stack-allocator.js";
import { regrownRegion } from "../src/replay/region-growth.js";
import { replayTrace } from "../src/replay/replay.js";
import { replayLog } from "../src/replay/replay-log.js";
import { parseTrace } from "../src/replay/trace.js";
import { drivenElasticRegion } from "./helpers/elastic-region.js";
import { TraceBuilder } from "./helpers/trace-builder.js";

// elastic's behaviour is the run's, never its storage's: its cap counts the
// threads that hold a local pool (not the region's thread slots), and its
// decay clock lives in the region (a view opened on a grown region goes on).

const BASELINE = 1000;

/** An elastic region with `slots` thread slots, driven directly. */
function elasticRegion(slots: number, maxMapCount: number) {
  const driven = drivenElasticRegion(slots, maxMapCount, BASELINE, 4_000);
  return { ...driven, freed: () => driven.region.totals().freed };
}

describe("elastic's cap counts the threads that hold a local pool", () => {
  it("falls by two batches for each thread that takes one, and rises when it exits", () => {
    // max_map_count 6022: budget (6022 - 5000) / 2 = 511. One holder: 511 - 256 - 127 = 128;
    // two: 0. Eight thread slots would give 0 throughout: slots are not counted.
    const { region, policy, stacks, burst, freed, expectSound } = elasticRegion(8, 6022);
    expect(policy.hardMaxSize).toBe(511 - 127);
    // T1 puts one stack: its local pool exists, its cleanup is registered.
    stacks[1]!.releaseStack(stacks[1]!.acquireStack());
    expect(region.readU32(Header.LOCAL_POOL_HOLDERS)).toBe(1);
    expect(policy.hardMaxSize).toBe(128);
    // T0's 300 (44 + 128 local, one full batch handed over): with T0 and T1 holding, the cap is 0 and the batch is freed.
    burst(0, 300);
    expect(region.readU32(Header.LOCAL_POOL_HOLDERS)).toBe(2);
    expect(policy.hardMaxSize).toBe(0);
    expect([policy.globalPoolSize(), freed()]).toEqual([0, 128]);
    // T1 exits (its one stack finds no room and is freed): T0 holds alone, the cap is 128 again.
    stacks[1]!.exit();
    expect(region.readU32(Header.LOCAL_POOL_HOLDERS)).toBe(1);
    expect(policy.hardMaxSize).toBe(128);
    // T0's next 300: 172 from its pool, 128 new; the hand-over at the 257th terminate joins (0 < 128).
    burst(0, 300);
    expect([policy.globalPoolSize(), freed()]).toEqual([BATCH_MAX_SIZE, 129]);
    expectSound();
  });

  it("counts a thread once however often its pool empties and fills, and stops counting it at its death's reclaim", () => {
    const { region, policy, stacks, burst, expectSound } = elasticRegion(4, 65530);
    for (let i = 0; i < 5; i++) burst(2, 1);
    burst(2, 300);
    burst(3, 1);
    expect(region.readU32(Header.LOCAL_POOL_HOLDERS)).toBe(2);
    // A refill from the global pool registers the cleanup too (T0 had no pool of its own).
    stacks[0]!.releaseStack(stacks[0]!.acquireStack());
    expect(region.readU32(Header.LOCAL_POOL_HOLDERS)).toBe(3);
    policy.reclaimDeadThread(3);
    expect(region.readU32(Header.LOCAL_POOL_HOLDERS)).toBe(2);
    stacks[2]!.exit();
    stacks[0]!.exit();
    expect(region.readU32(Header.LOCAL_POOL_HOLDERS)).toBe(0);
    // An exited thread that comes back takes a pool again.
    burst(0, 1);
    expect(region.readU32(Header.LOCAL_POOL_HOLDERS)).toBe(1);
    expectSound();
  });
});

describe("elastic does not depend on the replay's storage", () => {
  /** Three threads, bursts deep enough to grow a streamed replay's stack table, long quiet cycling for the decay. */
  function workload(): string {
    const b = new TraceBuilder(3).inc(1000);
    b.terminate(0, b.create(0, 1100));
    b.burst(1, 300).burst(2, 300);
    for (let i = 0; i < 3000; i++) b.burst(1, 1);
    b.burst(0, 600).burst(2, 200);
    for (let i = 0; i < 3000; i++) b.burst(2, 1);
    return b.text();
  }

  it("the same trace streamed and through replayTrace gives the same elastic result", async () => {
    // Budget (8000 - 5000) / 2 = 1500: the cap with 1 to 3 holders is 1117 to 605, where the hand-overs meet it.
    const text = workload();
    const options = { maxMapCount: 8000, baselineVmas: BASELINE };
    const whole = replayTrace(parseTrace(text), { policy: "elastic", ...options });
    const streamed = await replayLog({ text }, { policies: [{ policy: "elastic" }], ...options });
    expect(streamed.outcomes[0]!.region.threadCapacity).not.toBe(whole.region.threadCapacity);
    expect(streamed.outcomes[0]!.region.stackCapacity).not.toBe(whole.region.stackCapacity);
    expect(streamed.outcomes[0]!.result).toEqual(whole.result);
    expect(streamed.outcomes[0]!.globalLockAcquisitions).toBe(whole.globalLockAcquisitions);
    // The cap and the decay both acted: hand-overs were refused, and idle stacks were given back.
    expect(whole.result.stacksFreed).toBeGreaterThan(0);
    expect(whole.result.pooled.global).toBeLessThanOrEqual(BATCH_MAX_SIZE);
  });

  it("a region grown mid-replay keeps the decay clock and the holders' count", () => {
    // 768 global after T0's 1000 (six hand-overs). The period that ends at
    // 1000 ms records the low water (768); the next ends at 1250 ms.
    const { region, policy, burst } = elasticRegion(2, 65530);
    policy.incPoolSize(2000);
    burst(0, 1000);
    policy.tick(1000);
    // The replay grows the region and opens the policy on it again.
    const grown = regrownRegion(region, 4, 2 * region.stackCapacity);
    const reopened = new ElasticPolicy(grown, new StackAllocator(grown));
    // 1100 ms is within the period that began at 1000: nothing is given back.
    reopened.tick(1100);
    expect(reopened.globalPoolSize()).toBe(768);
    reopened.tick(1000 + ELASTIC_DECAY_PERIOD_MS);
    expect(reopened.globalPoolSize()).toBe(BATCH_MAX_SIZE);
    expect(reopened.localPoolHolders()).toBe(1);
    expect(checkRegion(grown, 0, reopened).violations).toEqual([]);
  });
});
