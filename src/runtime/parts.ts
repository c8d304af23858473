import { runImbalancePart, type ImbalancePart } from "../scenarios/imbalance/part.js";
import { runStressPart, type StressPart } from "../scenarios/stress/part.js";
import type { ScenarioPart } from "./protocol.js";
import type { ThreadEnv } from "./thread-env.js";

type PartRunner = (env: ThreadEnv, part: never) => unknown;

/** The worker-side code of each scenario kind. */
const RUNNERS: Record<string, PartRunner> = {
  "vma-exhaustion": runStressPart as (env: ThreadEnv, part: StressPart) => unknown,
  imbalance: runImbalancePart as (env: ThreadEnv, part: ImbalancePart) => unknown,
};

export function registerPartRunner(kind: string, runner: PartRunner): void {
  RUNNERS[kind] = runner;
}

/** Runs this thread's part with the code for its kind. */
export function runPart(env: ThreadEnv, part: ScenarioPart): unknown {
  const runner = RUNNERS[part.kind];
  if (!runner) throw new Error(`no worker code for scenario kind '${part.kind}'`);
  return (runner as (env: ThreadEnv, part: ScenarioPart) => unknown)(env, part);
}
