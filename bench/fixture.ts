import { CoroutineContext } from "../src/coroutine/index.js";
import { initialPoolMaxSize, openPolicy, policyId, ThreadStacks, type PolicyName, type PoolPolicy } from "../src/pools/index.js";
import { SharedRegion } from "../src/shared/region.js";
import type { StackBackend } from "../src/stacks/backend.js";
import { StackAllocator } from "../src/stacks/stack-allocator.js";
import { batchedHardMaxSize, LINUX_DEFAULT_MAX_MAP_COUNT } from "../src/vma/limits.js";

/** A one-thread pool under a policy, as a worker would hold it, for micro benchmarks. */
export interface PoolFixture {
  region: SharedRegion;
  allocator: StackAllocator;
  policy: PoolPolicy;
  stacks: ThreadStacks;
  ctx: CoroutineContext;
}

export function poolFixture(policy: PolicyName, threads = 1, backend?: StackBackend): PoolFixture {
  const region = SharedRegion.create({
    policyId: policyId(policy),
    threads,
    stackCapacity: 40_000,
    vmaLimit: LINUX_DEFAULT_MAX_MAP_COUNT * 4,
    baselineVmas: 0,
    initialPoolMaxSize: initialPoolMaxSize(policy),
    hardMaxSize: batchedHardMaxSize(LINUX_DEFAULT_MAX_MAP_COUNT),
  });
  const allocator = new StackAllocator(region, backend);
  const p = openPolicy(region, allocator);
  const stacks = new ThreadStacks(region, p, allocator, 0);
  return { region, allocator, policy: p, stacks, ctx: new CoroutineContext(stacks) };
}
