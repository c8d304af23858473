/**
 * run(): any scenario, from a program, exactly as `coropool run` runs it —
 * the same experiments, the same versioned result document `--json` prints.
 */
import { fileURLToPath } from "node:url";
import { InputError } from "../errors.js";
import { BUNDLED_SCENARIOS, bundledOrPath } from "../experiments/bundled.js";
import type { ThreadedExperimentOptions } from "../experiments/options.js";
import { runScenario } from "../experiments/run-scenario.js";
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
  const { value, file } = typeof scenario === "string" ? fromFile(scenario) : fromObject(scenario);
  const report = await runScenario(value, file, options);
  return toDocument(report) as ScenarioDocument;
}

function fromFile(reference: string) {
  const file = bundledOrPath(BUNDLED_SCENARIOS, reference, "run");
  return { value: loadScenarioFile(file), file };
}

function fromObject(scenario: ScenarioObject) {
  if (typeof scenario !== "object" || scenario === null) {
    throw new InputError("ERR_USAGE", `run: the scenario must be a name, a path or an object, got ${scenario === null ? "null" : typeof scenario}`);
  }
  const module = scenario.module instanceof URL ? fileURLToPath(scenario.module) : scenario.module;
  const plain = module === undefined ? { ...scenario } : { ...scenario, module };
  return { value: checkScenarioValue(plain, OBJECT_SOURCE), file: OBJECT_SOURCE };
}
