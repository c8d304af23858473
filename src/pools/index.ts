/** The pool policies: one file each, one registry, and what the runtime uses of them. */
export type { ListWalker, PolicyDefinition, PoolCensus, PoolPolicy } from "./policy.js";
export {
  POLICY_NAMES,
  initialPoolMaxSize,
  isPolicyName,
  openPolicy,
  policyDefinition,
  policyId,
  policyOf,
  type PolicyName,
} from "./registry.js";
export { checkRegion, orphanedGlobalSlots, type RegionCensus } from "./invariants.js";
export { holdDecay } from "./decay-gate.js";
export { ThreadStacks } from "./thread-stacks.js";
