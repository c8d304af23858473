/**
 * Reading a saved result (what a command printed with --json) back for
 * `coropool report`. The version and the command are checked here; the rest
 * is trusted to be what that version's schema says (docs/result.schema.json).
 */
import { readFileSync } from "node:fs";
import { InputError } from "../errors.js";
import { inputFileProblem } from "../input-file.js";
import { SCHEMA_VERSION, type ResultDocument } from "./document.js";

export const REPORTABLE_COMMANDS = ["demo", "stress", "imbalance", "randread", "run", "burst-idle", "whatif"] as const;

/** A saved result of a long run (16,384 samples per run at most) is tens of MB; this bounds what is read. */
export const MAX_RESULT_FILE_BYTES = 256 << 20;

export function readResultDocument(file: string): ResultDocument {
  const problem = inputFileProblem(file, MAX_RESULT_FILE_BYTES);
  if (problem !== null) {
    throw new InputError("ERR_RESULT_FILE", `cannot read result '${file}': ${problem}; give a file of at most 256 MiB written by a command's --json`);
  }
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "unknown error";
    throw new InputError("ERR_RESULT_FILE", `cannot read result '${file}': ${code}; give the path of a file written by a command's --json`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InputError("ERR_RESULT_FILE", `${file}: not valid JSON (${err instanceof Error ? err.message : String(err)}); give a file written by a command's --json`);
  }
  return checkResultDocument(value, file);
}

export function checkResultDocument(value: unknown, file: string): ResultDocument {
  if (Array.isArray(value) || (isObject(value) && "events" in value && "policy" in value)) {
    throw new InputError("ERR_RESULT_FILE", `${file}: a replay result has no HTML report; render the result of demo, stress, imbalance, randread or run`);
  }
  if (!isObject(value)) throw new InputError("ERR_RESULT_FILE", `${file}: not a coropool result (expected a JSON object with schemaVersion and command)`);
  const version = value["schemaVersion"];
  if (version === undefined) {
    throw new InputError("ERR_RESULT_FILE", `${file}: no schemaVersion, so not a coropool result; write one with e.g. 'coropool stress --json > result.json'`);
  }
  if (version !== SCHEMA_VERSION) {
    throw new InputError("ERR_RESULT_VERSION", `${file}: schemaVersion ${JSON.stringify(version)} is not supported; this coropool reads schemaVersion ${SCHEMA_VERSION}`);
  }
  const command = value["command"];
  if (typeof command !== "string" || !(REPORTABLE_COMMANDS as readonly string[]).includes(command)) {
    throw new InputError("ERR_RESULT_FILE", `${file}: command ${JSON.stringify(command)} has no report; allowed: ${REPORTABLE_COMMANDS.join(", ")}`);
  }
  if (!isObject(value["machine"])) throw new InputError("ERR_RESULT_FILE", `${file}: the result has no machine object; it is not complete`);
  return value as unknown as ResultDocument;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}
