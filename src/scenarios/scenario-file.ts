/** A scenario file's text: read from disk, parsed as JSON, every failure one line naming the file. */
import { readFileSync } from "node:fs";
import { InputError } from "../errors.js";
import { inputFileProblem } from "../input-file.js";
import { escapeControls, MAX_SHOWN_CHARS, shortened } from "../message-text.js";
import { SCENARIO_ERROR } from "./refusal.js";

/** A scenario file is a few hundred bytes of JSON; this bounds what is read whatever the path names. */
export const MAX_SCENARIO_FILE_BYTES = 1 << 20;

export function readScenarioText(path: string): string {
  const problem = inputFileProblem(path, MAX_SCENARIO_FILE_BYTES);
  if (problem !== null) throw new InputError(SCENARIO_ERROR, `${path}: cannot read the scenario file (${problem}); give a JSON file of at most 1 MiB`);
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new InputError(SCENARIO_ERROR, `${path}: cannot read the scenario file (${fsReason(err)})`);
  }
}

function fsReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file";
  if (code === "EISDIR") return "it is a directory";
  if (code === "EACCES") return "permission denied";
  return err instanceof Error ? err.message : String(err);
}

/** U+FEFF, the byte-order mark some editors put first in a UTF-8 file. */
const BYTE_ORDER_MARK = "\ufeff";

/**
 * The file's JSON. A byte-order mark in front (Windows editors save one) is
 * not part of the JSON but says nothing wrong about it: it is skipped.
 */
export function parseScenarioJson(text: string, source: string): unknown {
  const json = text.startsWith(BYTE_ORDER_MARK) ? text.slice(BYTE_ORDER_MARK.length) : text;
  try {
    return JSON.parse(json);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new InputError(SCENARIO_ERROR, `${source}: not valid JSON (${jsonErrorReason(reason, json)})`);
  }
}

/**
 * V8's reason, made one line: it may quote the file's text (newlines and
 * all: `Unexpected token 'x', "{\n..." is not valid JSON`), which is cut off,
 * and it gives places as string offsets, which become line and column.
 */
function jsonErrorReason(reason: string, text: string): string {
  const withoutQuote = reason.replace(/, ".*" is not valid JSON$/s, "");
  const placed = withoutQuote.replace(/(?: in JSON)? at position (\d+)(?: \(line \d+ column \d+\))?$/, (_, offset: string) => {
    const before = text.slice(0, Number(offset));
    const line = before.split("\n").length;
    return ` at line ${line}, column ${before.length - before.lastIndexOf("\n")}`;
  });
  return shortened(escapeControls(placed.split("\n")[0]!), MAX_SHOWN_CHARS * 2);
}
