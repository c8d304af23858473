import type { SharedRegion } from "../shared/region.js";
import type { StackAllocator } from "../stacks/stack-allocator.js";
import { BATCHED_INITIAL_POOL_MAX_SIZE, BatchedPolicy } from "./batched.js";
import { LEGACY_INITIAL_POOL_MAX_SIZE, LegacyPolicy } from "./legacy.js";
import { NonePolicy } from "./none.js";
import type { PoolPolicy } from "./policy.js";
import type { PolicyName } from "./policy-name.js";

export type { PoolPolicy } from "./policy.js";
export { POLICY_NAMES, isPolicyName, type PolicyName } from "./policy-name.js";

/** The policy the region was created for, as a view onto it. */
export function openPolicy(region: SharedRegion, stacks: StackAllocator): PoolPolicy {
  switch (region.policy) {
    case "legacy":
      return new LegacyPolicy(region, stacks);
    case "batched":
      return new BatchedPolicy(region, stacks);
    case "none":
      return new NonePolicy(region, stacks);
  }
}

/** The pool size a policy starts with before any device is added. */
export function initialPoolMaxSize(policy: PolicyName): number {
  switch (policy) {
    case "legacy":
      return LEGACY_INITIAL_POOL_MAX_SIZE;
    case "batched":
      return BATCHED_INITIAL_POOL_MAX_SIZE;
    case "none":
      return 0;
  }
}
