// The policies' names alone, for code that needs nothing else of pools/
// (flag parsing, result types); the registry is where they come from.
export { POLICY_NAMES, isPolicyName, type PolicyName } from "./registry.js";
