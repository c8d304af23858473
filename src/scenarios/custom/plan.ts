import type { RunPlan } from "../../runtime/runtime.js";
import type { CustomScenario } from "../types.js";
import type { CustomPart } from "./part.js";
import { customModulePath } from "./rules.js";

/** Every thread runs the same workload module with the same options; the module is relative to the scenario file. */
export function planCustom(s: CustomScenario, scenarioFile: string): RunPlan {
  const part: CustomPart = { kind: "custom", modulePath: customModulePath(s, scenarioFile), options: s.options, seed: s.seed };
  return { parts: Array.from({ length: s.threads }, () => part), poolSizeIncrease: 0, progressUnits: s.threads };
}
