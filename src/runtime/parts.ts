import { runCustomPart, type CustomPart } from "../scenarios/custom/part.js";
import { loadWorkload, type Workload } from "../scenarios/custom/workload.js";
import { runImbalancePart, type ImbalancePart } from "../scenarios/imbalance/part.js";
import { runRandreadPart, type RandreadPart } from "../scenarios/randread/part.js";
import { runStressPart, type StressPart } from "../scenarios/stress/part.js";
import { runSoakPart, type SoakPart } from "../scenarios/soak/part.js";
import type { ScenarioPart } from "./protocol.js";
import type { ThreadEnv } from "./thread-env.js";

/** Custom workload modules this worker has imported, by path. */
const workloads = new Map<string, Workload>();

/**
 * Work a part needs done before the thread joins the run: importing a custom
 * workload is asynchronous, and must not happen while others wait at a barrier.
 */
export async function preparePart(part: ScenarioPart): Promise<void> {
  if (part.kind === "custom") {
    const path = (part as CustomPart).modulePath;
    if (!workloads.has(path)) workloads.set(path, await loadWorkload(path));
  }
}

/** Runs this thread's part with the code for its kind. */
export function runPart(env: ThreadEnv, part: ScenarioPart): unknown {
  switch (part.kind) {
    case "vma-exhaustion":
      return runStressPart(env, part as StressPart);
    case "imbalance":
      return runImbalancePart(env, part as ImbalancePart);
    case "randread":
      return runRandreadPart(env, part as RandreadPart);
    case "soak":
      return runSoakPart(env, part as SoakPart);
    case "custom": {
      const custom = part as CustomPart;
      return runCustomPart(env, custom, workloads.get(custom.modulePath)!);
    }
    default:
      throw new Error(`no worker code for scenario kind '${part.kind}'`);
  }
}
