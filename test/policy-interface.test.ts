import { describe, expect, it } from "vitest";
import {
  checkRegion,
  initialPoolMaxSize,
  openPolicy,
  orphanedGlobalSlots,
  POLICY_NAMES,
  policyDefinition,
  policyId,
  policyOf,
  type ListWalker,
  type PolicyName,
  type PoolPolicy,
} from "../src/pools/index.js";
import { reclaimOrphanedGlobalStacks } from "../src/runtime/dead-threads.js";
import { Vma, Header, NO_SLOT, Slot, Thread } from "../src/shared/layout.js";
import { SharedRegion } from "../src/shared/region.js";
import { StackAllocator } from "../src/stacks/stack-allocator.js";
import { TraceBuilder } from "./helpers/trace-builder.js";

// What the runtime asks of a policy beyond get and put: a census for the
// invariant walk, a dead thread's pool, lock statistics, and the registry.
// Every expected number is worked out in the comment above it from QEMU's
// algorithm as docs/design.md#pool-policies states it.

const BASELINE = 1000;

/** A replayed trace's region with a fresh view of its policy, as the runtime's main thread holds one. */
function replayed(policy: PolicyName, build: (b: TraceBuilder) => void) {
  const b = new TraceBuilder(2);
  build(b);
  const outcome = b.replay({ policy, baselineVmas: BASELINE });
  const region = outcome.region;
  const allocator = new StackAllocator(region);
  return { outcome, region, allocator, view: openPolicy(region, allocator) };
}

/** T0 bursts 300 coroutines, then T1 runs 10 at once. */
function burstThenSmall(b: TraceBuilder): void {
  b.burst(0, 300).burst(1, 10);
}

/** A walker that only follows the links, remembering which lists it was asked to walk. */
class LinkCounter implements ListWalker {
  readonly walked: string[] = [];
  readonly failed: string[] = [];
  constructor(private readonly region: SharedRegion) {}
  walk(head: number, _state: number, _owner: number, where: string): number {
    this.walked.push(where);
    let n = 0;
    for (let s = head; s !== NO_SLOT; n++) s = this.region.i32[this.region.slotBase(s) + Slot.NEXT]!;
    return n;
  }
  expect(ok: boolean, message: string): void {
    if (!ok) this.failed.push(message);
  }
}

describe("PoolPolicy.census: what the invariant walk counts", () => {
  // legacy (pool_max_size 64): T0's 300 terminates put 128 in the release
  // pool, 64 in T0's alloc pool and free 108. T1's first create takes the
  // release pool whole (128 > 64) and pops 10 (alloc pool 118); its 10
  // terminates go to the now empty release pool.
  // batched: T0's 300 terminates fill a first batch (128), move it second,
  // fill another, hand it to the global pool at the 257th and keep 44: 172
  // local, 128 global. T1 refills with that batch, pops 10 and puts them back.
  // none: nothing is pooled. elastic: batched's pools exactly (nothing
  // exits, no decay period passes in 620 events).
  const expected: Record<PolicyName, { global: number; local: number[] }> = {
    legacy: { global: 10, local: [64, 118] },
    batched: { global: 0, local: [172, 128] },
    none: { global: 0, local: [0, 0] },
    elastic: { global: 0, local: [172, 128] },
  };

  for (const policy of POLICY_NAMES) {
    it(`${policy}: the census finds every pooled stack, and the region's books balance with it`, () => {
      const { region, view } = replayed(policy, burstThenSmall);
      const census = checkRegion(region, 0, view);
      expect(census.violations).toEqual([]);
      expect({ global: census.inGlobalPool, local: census.inLocalPools }).toEqual(expected[policy]);
      // The census agrees with the sizes the policy reports (and QEMU keeps).
      expect(census.inGlobalPool).toBe(view.globalPoolSize());
      expect(census.inLocalPools).toEqual([view.localPoolSize(0), view.localPoolSize(1)]);
      expect(census.globalSizeSkew).toBe(0);
      expect(census.localSizeSkew).toEqual([0, 0]);
      // The lists are the stacks: walked by the links alone they hold the same.
      const counter = new LinkCounter(region);
      const direct = view.census(counter);
      expect({ global: direct.global, local: direct.local }).toEqual(expected[policy]);
      expect(counter.failed).toEqual([]);
      expect(new Set(counter.walked).size).toBe(counter.walked.length);
    });
  }

  it("batched: a local batch whose size word disagrees with its list is a violation", () => {
    const { region, view } = replayed("batched", (b) => b.burst(0, 300));
    region.i32[region.threadBase(0) + Thread.LOCAL_SIZE_0]!++;
    expect(checkRegion(region, 0, view).violations).toEqual(["T0's local batches hold 44 + 128 stacks but their sizes say 45 + 128"]);
  });

  it("batched: a global batch whose head records the wrong size is a violation", () => {
    const { region, view } = replayed("batched", (b) => b.burst(0, 300));
    const head = region.i32[Header.GLOBAL_POOL_HEAD]!;
    region.i32[region.slotBase(head) + Slot.BATCH_SIZE]!--;
    expect(checkRegion(region, 0, view).violations).toEqual(["global batch 0 holds 128 stacks but its head says 127"]);
  });

  it("legacy: sizes skewed from their lists are reported as skew, not violations (QEMU's heuristic sizes)", () => {
    const { region, view } = replayed("legacy", (b) => b.burst(0, 300));
    region.i32[region.threadBase(0) + Thread.LOCAL_SIZE_0]!++;
    Atomics.add(region.i32, Header.GLOBAL_POOL_SIZE, 1);
    const census = checkRegion(region, 0, view);
    expect(census.violations).toEqual([]);
    expect(census.localSizeSkew).toEqual([1, 0]);
    expect(census.globalSizeSkew).toBe(1);
  });

  it("none: a shared pool size other than 0 is a violation", () => {
    const { region, view } = replayed("none", (b) => b.burst(0, 5));
    Atomics.store(region.i32, Header.GLOBAL_POOL_SIZE, 1);
    expect(checkRegion(region, 0, view).violations).toEqual(["policy none has 0 stacks in a global list"]);
  });
});

describe("PoolPolicy.reclaimDeadThread: a dead thread's pool, freed by the controlling thread", () => {
  // After T0's burst of 300 alone: legacy's T0 holds its alloc pool of 64
  // (its exit would have leaked them: the slow path never ran; a dead thread's
  // are freed regardless); batched's T0 holds 172 in two local batches; none
  // holds nothing; elastic's T0 holds batched's 172 (a dead thread donates nothing).
  const pooled: Record<PolicyName, number> = { legacy: 64, batched: 172, none: 0, elastic: 172 };

  for (const policy of POLICY_NAMES) {
    it(`${policy}: frees exactly the ${pooled[policy]} stacks of T0's local pool and leaves the books balanced`, () => {
      const { region, view } = replayed(policy, (b) => b.burst(0, 300));
      const before = region.totals();
      const globalBefore = view.globalPoolSize();
      const t0FreedBefore = region.threadWord(0, Thread.STAT_STACKS_FREED);

      expect(view.reclaimDeadThread(0)).toBe(pooled[policy]);

      expect(region.totals().freed - before.freed).toBe(pooled[policy]);
      expect(region.totals().leaked).toBe(0);
      expect(view.localPoolSize(0)).toBe(0);
      expect(view.globalPoolSize()).toBe(globalBefore);
      // Freed on the controller's behalf: not counted as T0's own frees.
      expect(region.threadWord(0, Thread.STAT_STACKS_FREED)).toBe(t0FreedBefore);
      const census = checkRegion(region, 0, view);
      expect(census.violations).toEqual([]);
      // A replay's region counts the stacks' VMAs over a baseline it keeps aside (so nothing wraps at any allowed value): its own Vma.BASELINE.
      expect(census.vmas.current).toBe(region.i32[Vma.BASELINE]! + 2 * (before.created - before.freed - pooled[policy]));
      // Nothing left to reclaim a second time.
      expect(view.reclaimDeadThread(0)).toBe(0);
    });
  }

  it("legacy: a thread whose cleanup was registered gives up its whole alloc pool, not the release pool", () => {
    const { region, view } = replayed("legacy", burstThenSmall);
    // T1 took the release pool (128), popped 10 (118 left); its 10 terminates refilled the release pool.
    expect(view.reclaimDeadThread(1)).toBe(118);
    expect(view.globalPoolSize()).toBe(10);
    expect(view.localPoolSize(0)).toBe(64);
    expect(checkRegion(region, 0, view).violations).toEqual([]);
  });
});

describe("stacks in the global pool that no list reaches (a batch in flight when its thread died)", () => {
  it("batched: a batch unlinked from the global pool but never taken is found and freed, exactly", () => {
    const { region, allocator, view } = replayed("batched", (b) => b.burst(0, 300));
    // What takeGlobalBatch does under the lock, with the thread dying before it relabels the batch.
    const head = region.i32[Header.GLOBAL_POOL_HEAD]!;
    region.i32[Header.GLOBAL_POOL_HEAD] = region.i32[region.slotBase(head) + Slot.BATCH_NEXT]!;
    Atomics.sub(region.i32, Header.GLOBAL_POOL_SIZE, 128);
    expect(orphanedGlobalSlots(region, view)).toHaveLength(128);
    expect(reclaimOrphanedGlobalStacks(region, allocator, view)).toBe(128);
    expect(orphanedGlobalSlots(region, view)).toEqual([]);
    expect(checkRegion(region, 0, view).violations).toEqual([]);
  });

  it("legacy: a release pool taken whole but never relabelled is found and freed, exactly", () => {
    const { region, allocator, view } = replayed("legacy", (b) => b.burst(0, 300));
    Atomics.store(region.i32, Header.GLOBAL_POOL_HEAD, NO_SLOT);
    Atomics.store(region.i32, Header.GLOBAL_POOL_SIZE, 0);
    expect(reclaimOrphanedGlobalStacks(region, allocator, view)).toBe(128);
    expect(checkRegion(region, 0, view).violations).toEqual([]);
  });

  it("nothing is reclaimed when every global stack is on a list", () => {
    for (const policy of POLICY_NAMES) {
      const { region, view } = replayed(policy, burstThenSmall);
      expect(orphanedGlobalSlots(region, view)).toEqual([]);
    }
  });
});

describe("PoolPolicy.lockStats", () => {
  it("batched: every acquisition of the global lock, the same count the threads record", () => {
    // T0's 300 creates each find the local pool empty and look in the global
    // pool under the lock (300), its hand-over takes it once more; T1's first
    // create refills (1) and its other 9 find a local batch: 302.
    const { outcome, region, view } = replayed("batched", burstThenSmall);
    const byThreads = region.threadWord(0, Thread.STAT_LOCK_ACQUISITIONS) + region.threadWord(1, Thread.STAT_LOCK_ACQUISITIONS);
    expect(view.lockStats()).toEqual({ acquisitions: 302, contended: 0, waitNs: 0, recoveries: 0 });
    expect(byThreads).toBe(302);
    expect(outcome.globalLockAcquisitions).toBe(302);
  });

  it("elastic: the lock only where there is something to take or room to give", () => {
    // T0's 300 creates find the global pool empty by its size word: no lock.
    // Its hand-over at the 257th terminate takes it (1), T1's refill (1): 2.
    const { outcome, view } = replayed("elastic", burstThenSmall);
    expect(view.lockStats()).toEqual({ acquisitions: 2, contended: 0, waitNs: 0, recoveries: 0 });
    expect(outcome.globalLockAcquisitions).toBe(2);
  });

  it("batched: the controlling thread's pool-size changes take the lock too", () => {
    const { view } = replayed("batched", () => {});
    view.incPoolSize(10);
    view.decPoolSize(10);
    expect(view.lockStats().acquisitions).toBe(2);
  });

  for (const policy of ["legacy", "none"] as const) {
    it(`${policy}: no lock, so nothing to count`, () => {
      const { outcome, view } = replayed(policy, burstThenSmall);
      expect(view.lockStats()).toEqual({ acquisitions: 0, contended: 0, waitNs: 0, recoveries: 0 });
      expect(outcome.globalLockAcquisitions).toBe(0);
    });
  }
});

describe("the policies' registry", () => {
  it("lists legacy, batched, none and elastic, in that order (a new policy goes at the end)", () => {
    expect(POLICY_NAMES).toEqual(["legacy", "batched", "none", "elastic"]);
  });

  it("gives each policy its own number in the region's header, and opens the view that matches", () => {
    for (const name of POLICY_NAMES) {
      const region = SharedRegion.create({
        policyId: policyId(name),
        threads: 1,
        stackCapacity: 4,
        vmaLimit: 100,
        baselineVmas: 0,
        initialPoolMaxSize: initialPoolMaxSize(name),
        hardMaxSize: 0,
      });
      const view: PoolPolicy = openPolicy(region, new StackAllocator(region));
      expect(policyOf(SharedRegion.attach(region.buffer))).toBe(name);
      expect(view.name).toBe(name);
      expect(policyDefinition(name).name).toBe(name);
    }
    expect(new Set(POLICY_NAMES.map(policyId)).size).toBe(POLICY_NAMES.length);
  });

  it("carries each policy's own constants", () => {
    expect(POLICY_NAMES.map(initialPoolMaxSize)).toEqual([64, 128, 0, 128]);
    expect(POLICY_NAMES.map((p) => policyDefinition(p).usesHardCap)).toEqual([false, true, false, true]);
    expect(POLICY_NAMES.map((p) => policyDefinition(p).usesGlobalLock)).toEqual([false, true, false, true]);
  });

  it("refuses a region that names a policy it does not know", () => {
    const region = SharedRegion.create({ policyId: POLICY_NAMES.length, threads: 1, stackCapacity: 1, vmaLimit: 10, baselineVmas: 0, initialPoolMaxSize: 0, hardMaxSize: 0 });
    expect(() => openPolicy(region, new StackAllocator(region))).toThrow(`the region names pool policy ${POLICY_NAMES.length}, which is not registered`);
  });
});
