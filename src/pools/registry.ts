import type { SharedRegion } from "../shared/region.js";
import type { StackAllocator } from "../stacks/stack-allocator.js";
import { BATCHED } from "./batched.js";
import { ELASTIC } from "./elastic.js";
import { LEGACY } from "./legacy.js";
import { NONE } from "./none.js";
import type { PolicyDefinition, PoolPolicy } from "./policy.js";

/**
 * Every pool policy coropool can run, in the order help and reports list
 * them. A policy's position is the number the region's header stores for it,
 * so a new policy goes at the end: one file exporting its PolicyDefinition,
 * and one entry here.
 */
const POLICIES = [LEGACY, BATCHED, NONE, ELASTIC] as const;

/** The pool designs coropool can run. */
export type PolicyName = (typeof POLICIES)[number]["name"];
export const POLICY_NAMES: readonly PolicyName[] = POLICIES.map((p) => p.name);

export function isPolicyName(value: string): value is PolicyName {
  return (POLICY_NAMES as readonly string[]).includes(value);
}

/** The registry's entry for a policy. */
export function policyDefinition(name: PolicyName): PolicyDefinition<PolicyName> {
  return POLICIES[policyId(name)]!;
}

/** The number a region's header stores for the policy. */
export function policyId(name: PolicyName): number {
  return POLICY_NAMES.indexOf(name);
}

/** The name of the policy a region was created for. */
export function policyOf(region: SharedRegion): PolicyName {
  return registeredAt(region.policyId).name;
}

/** The policy the region was created for, as a view onto it. */
export function openPolicy(region: SharedRegion, stacks: StackAllocator): PoolPolicy {
  return registeredAt(region.policyId).open(region, stacks);
}

/** The pool size a policy starts with before any device is added. */
export function initialPoolMaxSize(name: PolicyName): number {
  return policyDefinition(name).initialPoolMaxSize;
}

function registeredAt(id: number): PolicyDefinition<PolicyName> {
  const definition = POLICIES[id];
  if (definition === undefined) throw new Error(`the region names pool policy ${id}, which is not registered`);
  return definition;
}
