/**
 * A region under elastic with its threads driven directly from the test's
 * thread, so a test can give the decay its own clock and step each thread's
 * pool operations in the order it wants.
 */
import { expect } from "vitest";
import { ElasticPolicy } from "../../src/pools/elastic.js";
import { checkRegion } from "../../src/pools/invariants.js";
import { initialPoolMaxSize, policyId, ThreadStacks } from "../../src/pools/index.js";
import { SharedRegion } from "../../src/shared/region.js";
import { StackAllocator } from "../../src/stacks/stack-allocator.js";
import { batchedHardMaxSize } from "../../src/vma/limits.js";

export function drivenElasticRegion(threads: number, maxMapCount: number, baselineVmas: number, stackCapacity: number) {
  const region = SharedRegion.create({
    policyId: policyId("elastic"),
    threads,
    stackCapacity,
    vmaLimit: maxMapCount,
    baselineVmas,
    initialPoolMaxSize: initialPoolMaxSize("elastic"),
    hardMaxSize: batchedHardMaxSize(maxMapCount),
  });
  const allocator = new StackAllocator(region);
  const policy = new ElasticPolicy(region, allocator);
  const stacks = Array.from({ length: threads }, (_, t) => new ThreadStacks(region, policy, allocator, t));
  /** n coroutines created on thread t, then all terminated there. */
  const burst = (t: number, n: number) => {
    const slots = Array.from({ length: n }, () => stacks[t]!.acquireStack());
    for (const s of slots) stacks[t]!.releaseStack(s);
  };
  const expectSound = (live = 0) => expect(checkRegion(region, live, policy).violations).toEqual([]);
  return { region, allocator, policy, stacks, burst, expectSound };
}
