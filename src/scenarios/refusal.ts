/**
 * How a scenario file is refused: one line a user can act on, naming the
 * file, the field and what is allowed there:
 *
 *   <file>: <field path>: <value> is not allowed; allowed: <what is>
 *   <file>: <field path>: missing; allowed: <what is>
 *   <file>: <field path>: unknown field; allowed fields: <list>
 */
import { InputError } from "../errors.js";
import { escapeControls, MAX_SHOWN_CHARS, shortened } from "../message-text.js";

export const SCENARIO_ERROR = "ERR_SCENARIO";

/** A field name or a list index: one step of a path into a scenario file. */
export type Segment = string | number;

/**
 * One reason to refuse a file: where (`path`), what is wrong there (`what`,
 * the message after the path), and `order`, which puts the refusals of one
 * file in the order the file is read (see schema-check.ts): only the first
 * is reported.
 */
export interface Refusal {
  path: Segment[];
  what: string;
  order: number[];
}

/** `a.b[2]`; a name that is no plain identifier (an unknown field's, say) is shown quoted: a["x y"]. */
export function pathText(path: readonly Segment[]): string {
  return path.reduce<string>((text, segment) => {
    if (typeof segment === "number") return `${text}[${segment}]`;
    if (!PLAIN_FIELD_NAME.test(segment)) return `${text}[${show(segment)}]`;
    return text === "" ? segment : `${text}.${segment}`;
  }, "");
}

const PLAIN_FIELD_NAME = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** A value as JSON, cut short; JSON escapes C0 controls but not DEL, C1 or U+2028/2029. */
export function show(value: unknown): string {
  const shown = typeof value === "number" ? String(value) : (JSON.stringify(value) ?? String(value));
  return shortened(escapeControls(shown), MAX_SHOWN_CHARS);
}

export function notAllowed(value: unknown, allowed: string): string {
  return `${show(value)} is not allowed; allowed: ${allowed}`;
}

export function missing(allowed: string): string {
  return `missing; allowed: ${allowed}`;
}

/** The error for a refusal in the file `source`. */
export function scenarioError(source: string, path: readonly Segment[], what: string): InputError {
  const where = path.length === 0 ? source : `${source}: ${pathText(path)}`;
  return new InputError(SCENARIO_ERROR, `${where}: ${what}`);
}
