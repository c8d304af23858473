/**
 * run(): any scenario, from a program, exactly as `coropool run` runs it —
 * the same experiments, the same versioned result document `--json` prints.
 */
import { fileURLToPath } from "node:url";
import { BUNDLED_SCENARIOS, bundledOrPath } from "../experiments/bundled.js";
import type { ThreadedExperimentOptions } from "../experiments/options.js";
import { runScenario } from "../experiments/run-scenario.js";
import { apiDoor } from "../options/door.js";
import { resolveRunOptions } from "../options/doors.js";
import { badArgument } from "../options/resolve.js";
import { checkOptionsFitScenario } from "../options/scenario-fit.js";
import { toDocument, type CustomDocument, type ImbalanceDocument, type RandreadDocument, type StressDocument } from "../report/document.js";
import type { ScenarioKind } from "../scenarios/types.js";
import { checkScenarioValue, loadScenarioFile } from "../scenarios/validate.js";

/**
 * Everything `coropool run` takes as flags: policies, maxMapCount,
 * baselineVmas, uncapped, backend, stackSize, seed, threads, timeoutMs,
 * check, plus an AbortSignal and the progress and sample callbacks.
 */
export type RunOptions = ThreadedExperimentOptions;

/**
 * A scenario as a program writes it: the fields of a scenario file (see
 * docs/scenario.schema.json), defaults filled in as for a file. A custom
 * scenario's `module` may be a path (relative to the current folder) or a
 * file: URL.
 */
export interface ScenarioObject {
  kind: ScenarioKind;
  module?: string | URL;
  [field: string]: unknown;
}

/** The document of a scenario run: which one, its `command` tells. */
export type ScenarioDocument = StressDocument | ImbalanceDocument | RandreadDocument | CustomDocument;

/** How a scenario object is named in messages and in the document's `scenarioFile`. */
const OBJECT_SOURCE = "(scenario object)";

/**
 * Runs `scenario` — a bundled scenario's name (e.g. "bug-report"), the path
 * of a scenario file, or a scenario object — under each policy in turn, on
 * real worker threads. Bad input is an InputError (code and one-line
 * message, as the CLI prints them) thrown before anything runs.
 */
export async function run(scenario: string | ScenarioObject, options: RunOptions = {}): Promise<ScenarioDocument> {
  const door = apiDoor("run");
  const resolved = resolveRunOptions(door, options);
  const { value, file } = typeof scenario === "string" ? fromFile(scenario) : fromObject(scenario);
  checkOptionsFitScenario(door, value, resolved);
  const report = await runScenario(value, file, resolved);
  return toDocument(report) as ScenarioDocument;
}

function fromFile(reference: string) {
  const file = bundledOrPath(BUNDLED_SCENARIOS, reference, "run");
  return { value: loadScenarioFile(file), file };
}

function fromObject(scenario: ScenarioObject) {
  if (typeof scenario !== "object" || scenario === null || Array.isArray(scenario)) {
    throw badArgument(apiDoor("run"), "scenario", scenario, "a bundled scenario's name, a scenario file's path, or a scenario object ({ kind, … })");
  }
  const module = scenario.module instanceof URL ? fileURLToPath(scenario.module) : scenario.module;
  const plain = module === undefined ? { ...scenario } : { ...scenario, module };
  return { value: checkScenarioValue(plain, OBJECT_SOURCE), file: OBJECT_SOURCE };
}
