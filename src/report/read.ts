/**
 * Reading a saved result (what a command printed with --json) back for
 * `coropool report`, and checking a result document however it came: its
 * version and command here, the rest against that version's published
 * schema (docs/result.schema.json, see result-schema.ts).
 */
import { readFileSync } from "node:fs";
import { InputError } from "../errors.js";
import { inputFileProblem } from "../input-file.js";
import { MAX_SHOWN_CHARS, shownText } from "../message-text.js";
import { SCHEMA_VERSION, type ResultDocument } from "./document.js";
import { schemaProblem, type DocumentKind } from "./result-schema.js";

export const REPORTABLE_COMMANDS = ["demo", "stress", "imbalance", "randread", "run", "burst-idle", "whatif", "plan"] as const;

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

/**
 * `value` as a result document, checked as every door checks one (`coropool
 * report`'s file, the library's renderReport): an object of this
 * schemaVersion, of a command with a report, matching that command's
 * document in docs/result.schema.json. Anything else is an InputError of one
 * line that starts with `source` (a file's name, or the function's).
 */
export function checkResultDocument(value: unknown, source: string): ResultDocument {
  if (Array.isArray(value) || (isObject(value) && "events" in value && "policy" in value)) {
    throw new InputError("ERR_RESULT_FILE", `${source}: a replay result has no HTML report; allowed: ${ALLOWED}`);
  }
  if (!isObject(value)) throw new InputError("ERR_RESULT_FILE", `${source}: ${describeValue(value)} is not a coropool result; allowed: ${ALLOWED}`);
  const version = value["schemaVersion"];
  if (version === undefined) {
    throw new InputError("ERR_RESULT_FILE", `${source}: no schemaVersion, so not a coropool result; allowed: ${ALLOWED}`);
  }
  if (version !== SCHEMA_VERSION) {
    throw new InputError("ERR_RESULT_VERSION", `${source}: schemaVersion ${shown(version)} is not supported; this coropool reads schemaVersion ${SCHEMA_VERSION}`);
  }
  const command = value["command"];
  if (!isReportable(command)) {
    throw new InputError("ERR_RESULT_FILE", `${source}: command ${shown(command)} has no report; allowed: ${REPORTABLE_COMMANDS.join(", ")}`);
  }
  const problem = schemaProblem(value, documentKind(command, value));
  if (problem !== null) throw incompleteResult(source, command, `: ${problem}`);
  return value as unknown as ResultDocument;
}

/** A result of `command` with a part missing or wrong (`detail` says which, from ": " or " (" on). */
export function incompleteResult(source: string, command: string, detail: string): InputError {
  return new InputError("ERR_RESULT_FILE", `${source}: not a complete '${command}' result${detail}; allowed: a complete '${command}' result, as 'coropool ${command} --json' writes it`);
}

/** What the checks accept, as their messages say it. */
const ALLOWED = `a result document of schemaVersion ${SCHEMA_VERSION}, as a command's --json writes it (${REPORTABLE_COMMANDS.join(", ")}) or the library's run() and whatIf() return it`;

type ReportableCommand = (typeof REPORTABLE_COMMANDS)[number];

function isReportable(command: unknown): command is ReportableCommand {
  return typeof command === "string" && (REPORTABLE_COMMANDS as readonly string[]).includes(command);
}

/** The schema's document for a command's result; stress --backend kernel's has children instead of runs. */
function documentKind(command: ReportableCommand, value: Record<string, unknown>): DocumentKind {
  switch (command) {
    case "stress":
      return "children" in value ? "kernelStressDocument" : "stressDocument";
    case "run":
      return "customDocument";
    case "burst-idle":
      return "burstIdleDocument";
    case "whatif":
      return "whatifDocument";
    default:
      return `${command}Document`;
  }
}

/** A value that is no object, as a message names it: "null", "the string \"x\"", "the number 7". */
function describeValue(value: unknown): string {
  return value === null || value === undefined ? String(value) : `the ${typeof value} ${shown(value)}`;
}

/** A user's value in a message: as JSON where it has one, escaped and cut. */
function shown(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return shownText(text, MAX_SHOWN_CHARS);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}
