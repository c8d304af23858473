/**
 * The rules of a custom file: a user's workload module run on N threads.
 * Beyond the schema: the module must exist, relative to the file (checked when
 * a file is loaded), so a typo is bad input now rather than a failed import on
 * every worker later.
 */
import { statSync } from "node:fs";
import { fileKind } from "../../input-file.js";
import { dirname, resolve } from "node:path";
import { DEFAULT_THREADS, DESCRIPTION, kindFile, MAX_MAP_COUNT, MAX_THREADS, SEED, THREADS } from "../common-fields.js";
import { optional, required, text, value } from "../field-rules.js";
import { notAllowed, scenarioError } from "../refusal.js";
import type { CustomScenario } from "../types.js";

export const CUSTOM_FILE = kindFile(
  "custom",
  "custom: your own module, exporting a generator-based workload, run on N threads with any pool policy (see scenarios/README.md).",
  {
    description: DESCRIPTION,
    module: required(
      text("a non-empty string: the module's path, relative to the scenario file", true),
      "The workload module's path, relative to this file; the file must exist.",
    ),
    threads: optional(THREADS, DEFAULT_THREADS, `Worker threads (1 to ${MAX_THREADS}).`),
    options: optional(
      value({ type: "object" }, { allowed: "a JSON object (passed to the workload as is)" }),
      {},
      "Passed to the workload's coroutines() as is.",
    ),
    maxMapCount: MAX_MAP_COUNT,
    seed: SEED,
  },
);

/** The module's path: relative to the scenario file. */
export function customModulePath(scenario: CustomScenario, scenarioFile: string): string {
  return resolve(dirname(scenarioFile), scenario.module);
}

/** Refuses a scenario whose module is not there (relative to `scenarioFile`). */
export function checkModuleExists(scenario: CustomScenario, scenarioFile: string): void {
  const modulePath = customModulePath(scenario, scenarioFile);
  const found = whatIsAt(modulePath);
  if (found !== null) {
    const allowed = `the path of an existing module file, relative to the scenario file (${found})`;
    throw scenarioError(scenarioFile, ["module"], notAllowed(scenario.module, allowed));
  }
}

/** Null when `path` is a file, else what is there instead, as the message says it. */
function whatIsAt(path: string): string | null {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    return `nothing at ${path}`;
  }
  if (stats.isFile()) return null;
  return `${path} is ${fileKind(stats)}, not a module file`;
}
