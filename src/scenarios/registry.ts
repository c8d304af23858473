/**
 * Every kind of scenario, in one place. A kind is:
 *
 *   file   ── its fields: the JSON Schema (docs/scenario.schema.json), the
 *             checks a schema cannot express, the defaults (../field-rules.ts)
 *   plans  ── the scenario as the runtime's RunPlans, one per run under each policy
 *   part   ── the code each worker thread runs for its share of a plan, and
 *             what it must prepare first
 *
 * A new kind is a folder with those three and one line here. Parts without a
 * file kind (the bench's soak) have only their part code.
 */
import type { RunPlan } from "../runtime/runtime.js";
import type { ScenarioPart } from "../runtime/protocol.js";
import type { ThreadEnv } from "../runtime/thread-env.js";
import { runBurstIdlePart } from "./burst-idle/part.js";
import { planBurstIdle } from "./burst-idle/plan.js";
import { BURST_IDLE_FILE } from "./burst-idle/rules.js";
import { prepareCustomPart, runPreparedCustomPart } from "./custom/part.js";
import { planCustom } from "./custom/plan.js";
import { checkModuleExists, CUSTOM_FILE, customModulePath } from "./custom/rules.js";
import type { ObjectRule } from "./field-rules.js";
import { runImbalancePart } from "./imbalance/part.js";
import { planImbalance } from "./imbalance/plan.js";
import { IMBALANCE_FILE } from "./imbalance/rules.js";
import { runRandreadPart } from "./randread/part.js";
import { planRandread, randreadCases } from "./randread/plan.js";
import { RANDREAD_FILE } from "./randread/rules.js";
import { runSoakPart } from "./soak/part.js";
import { runStressPart } from "./stress/part.js";
import { planStress } from "./stress/plan.js";
import { STRESS_FILE } from "./stress/rules.js";
import type { Scenario, ScenarioKind } from "./types.js";

/** The code a worker thread runs for one kind of part. */
export interface PartCode<P extends ScenarioPart> {
  /**
   * Work before the thread meets the others at the run's start: importing a
   * custom workload is asynchronous, so it is done on the worker (never on
   * the main thread), inside the run's time limit.
   */
  prepare?(part: P): Promise<void>;
  /** Runs this thread's part; what it returns is the thread's part result. */
  run(env: ThreadEnv, part: P): unknown;
}

export interface ScenarioKindSpec<S extends Scenario> {
  /** The file's fields and their rules. */
  file: ObjectRule;
  /** Checks that need the file's place on disk (a custom module beside it). */
  checkLocation?(scenario: S, scenarioFile: string): void;
  /** Files a run reads besides the scenario file itself (a custom workload module). */
  readFiles?(scenario: S, scenarioFile: string): string[];
  /**
   * The runs the scenario asks for under each policy (randread: one per
   * block size × iodepth, in randreadCases order); relative paths in the
   * scenario resolve from `scenarioFile`'s folder.
   */
  plans(scenario: S, scenarioFile: string): RunPlan[];
  part: PartCode<ScenarioPart & { kind: S["kind"] }>;
  /**
   * The scenario on `threads` threads (a run's threads option), the roles
   * that name threads moved to fit; absent where the kind sets its own
   * threads (a guest's IOThreads and main loop). `threads` is within the
   * file's own rule for `threads` (threadsRule).
   */
  withThreads?(scenario: S, threads: number): S;
}

type KindSpecs = { [K in ScenarioKind]: ScenarioKindSpec<Extract<Scenario, { kind: K }>> };

export const SCENARIO_KIND_SPECS: KindSpecs = {
  "vma-exhaustion": { file: STRESS_FILE, plans: (s) => [planStress(s)], part: { run: runStressPart } },
  imbalance: {
    file: IMBALANCE_FILE,
    plans: (s) => [planImbalance(s)],
    part: { run: runImbalancePart },
    // A bursting thread that is no longer there becomes T0.
    withThreads: (s, threads) => ({ ...s, threads, burstThread: s.burstThread < threads ? s.burstThread : 0 }),
  },
  randread: {
    file: RANDREAD_FILE,
    plans: (s) => randreadCases(s).map((c) => planRandread(s, c)),
    part: { run: runRandreadPart },
    withThreads: (s, threads) => ({ ...s, threads }),
  },
  custom: {
    file: CUSTOM_FILE,
    checkLocation: checkModuleExists,
    readFiles: (s, scenarioFile) => [customModulePath(s, scenarioFile)],
    plans: (s, scenarioFile) => [planCustom(s, scenarioFile)],
    part: { prepare: prepareCustomPart, run: runPreparedCustomPart },
    withThreads: (s, threads) => ({ ...s, threads }),
  },
  "burst-idle": {
    file: BURST_IDLE_FILE,
    plans: (s) => [planBurstIdle(s)],
    part: { run: runBurstIdlePart },
    // The bursting threads stay as many as fit, leaving one for the later load.
    withThreads: (s, threads) => ({ ...s, threads, burstThreads: Math.min(s.burstThreads, threads - 1) }),
  },
};

/** Any kind's spec, for code that holds a scenario of any kind. */
function specOf(scenario: Scenario): ScenarioKindSpec<Scenario> {
  return SCENARIO_KIND_SPECS[scenario.kind] as ScenarioKindSpec<Scenario>;
}

/** The rules of a kind's file. */
export function scenarioFileRules(kind: ScenarioKind): ObjectRule {
  return SCENARIO_KIND_SPECS[kind].file;
}

/** The checks of a checked scenario that need its file's place on disk. */
export function checkScenarioLocation(scenario: Scenario, scenarioFile: string): void {
  specOf(scenario).checkLocation?.(scenario, scenarioFile);
}

/**
 * What a run's threads option may be for this scenario: the kind's own rule
 * for its `threads` field (its bounds and words), or null where the kind
 * sets its own threads.
 */
export function threadsRule(scenario: Scenario): { min: number; max: number; allowed: string } | null {
  if (specOf(scenario).withThreads === undefined) return null;
  const field = scenarioFileRules(scenario.kind).fields.threads!;
  const schema = field.rule.schema as { minimum: number; maximum: number };
  return { min: schema.minimum, max: schema.maximum, allowed: field.rule.allowed({ root: scenario, path: ["threads"] }) };
}

/** The scenario on `threads` threads (see ScenarioKindSpec.withThreads); threadsRule says what is allowed. */
export function scenarioWithThreads(scenario: Scenario, threads: number): Scenario {
  return specOf(scenario).withThreads!(scenario, threads);
}

/**
 * Every file a run of the scenario reads: the scenario file and whatever it
 * names (a custom workload module). A command never writes over any of them.
 */
export function scenarioInputFiles(scenario: Scenario, scenarioFile: string): string[] {
  return [scenarioFile, ...(specOf(scenario).readFiles?.(scenario, scenarioFile) ?? [])];
}

/** The runs a scenario asks for under each policy (see ScenarioKindSpec.plans). */
export function scenarioPlans(scenario: Scenario, scenarioFile: string): RunPlan[] {
  return specOf(scenario).plans(scenario, scenarioFile);
}

/** Part kinds to their code: every file kind's, and the soak's. */
const PART_CODE: Record<string, PartCode<ScenarioPart>> = {
  ...Object.fromEntries(Object.entries(SCENARIO_KIND_SPECS).map(([kind, spec]) => [kind, spec.part])),
  soak: { run: runSoakPart },
};

function partCode(part: ScenarioPart): PartCode<ScenarioPart> {
  const code = Object.hasOwn(PART_CODE, part.kind) ? PART_CODE[part.kind] : undefined;
  if (code === undefined) throw new Error(`no worker code for scenario kind '${part.kind}'`);
  return code;
}

/** Does what the part needs done before its thread joins the run. */
export async function preparePart(part: ScenarioPart): Promise<void> {
  await partCode(part).prepare?.(part);
}

/** Runs this thread's part with the code for its kind. */
export function runPart(env: ThreadEnv, part: ScenarioPart): unknown {
  return partCode(part).run(env, part);
}
