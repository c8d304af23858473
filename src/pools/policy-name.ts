/** The pool designs coropool can run. */
export const POLICY_NAMES = ["legacy", "batched", "none"] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

/** The number stored in the region header for each policy. */
export const POLICY_IDS: Record<PolicyName, number> = { legacy: 0, batched: 1, none: 2 };

export function isPolicyName(value: string): value is PolicyName {
  return (POLICY_NAMES as readonly string[]).includes(value);
}
