/**
 * Who hands the options in: a command of the CLI (flags) or a function of
 * the API (option keys). Every message names an option as that caller wrote
 * it — `bad --max-map-count -5; allowed: …` from the command line, `bad
 * maxMapCount -5; allowed: …` from a program — with the same `allowed` words.
 */
import { InputError } from "../errors.js";
import { MAX_SHOWN_CHARS, shownText } from "../message-text.js";

export type Door = { readonly command: string } | { readonly fn: string };

export const cliDoor = (command: string): Door => ({ command });
export const apiDoor = (fn: string): Door => ({ fn });

export function isCli(door: Door): door is { command: string } {
  return "command" in door;
}

/** Where a message comes from, before its text: "whatif: " or "run(): ". */
export function doorPrefix(door: Door): string {
  return "command" in door ? `${door.command}: ` : `${door.fn}(): `;
}

/** An option's camelCase name as the door's caller writes it: `--max-map-count` or `maxMapCount`. */
export function optionLabel(door: Door, name: string): string {
  return isCli(door) ? `--${flagName(name)}` : name;
}

/** maxMapCount → max-map-count; a few options keep a shorter flag (their table says which). */
export function flagName(name: string): string {
  return FLAG_NAMES[name] ?? name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** Options whose flag is not their name in kebab case: one table, the only place it is said. */
const FLAG_NAMES: Record<string, string> = { policies: "policy", poolIncrease: "pool-inc", policyOverrides: "policy" };

/**
 * The error that refuses `value` of option `name`: "bad NAME VALUE; allowed:
 * ALLOWED", with which part is wrong where the value has parts ("bad
 * --policy legacy,fifo (fifo is not allowed); allowed: …").
 */
export function badOption(door: Door, name: string, value: unknown, allowed: string, note: string | null = null): InputError {
  const part = note === null ? "" : ` (${shownText(note, MAX_SHOWN_CHARS)})`;
  return new InputError("ERR_BAD_OPTION", `bad ${optionLabel(door, name)} ${shownValue(door, value)}${part}; allowed: ${allowed}`);
}

/**
 * A value as the caller wrote it: a flag's text as typed ('' when empty or
 * with spaces), a program's value by its type when it is not a number or a
 * string ("a string '5'" is what tells a caller why 5 was refused).
 */
export function shownValue(door: Door, value: unknown): string {
  if (isCli(door) && typeof value === "string") return /^\S+$/.test(value) ? shownText(value, MAX_SHOWN_CHARS) : `'${shownText(value, MAX_SHOWN_CHARS)}'`;
  return describeValue(value);
}

function describeValue(value: unknown): string {
  switch (typeof value) {
    case "number":
    case "boolean":
    case "bigint":
      return `${String(value)}${typeof value === "bigint" ? "n" : ""}`;
    case "string":
      return JSON.stringify(shownText(value, MAX_SHOWN_CHARS));
    case "undefined":
      return "undefined";
    case "function":
      return "(a function)";
    case "symbol":
      return "(a symbol)";
  }
  if (value === null) return "null";
  if (Array.isArray(value)) return shortJson(value) ?? `(an array of ${value.length})`;
  return shortJson(value as object) ?? "(an object)";
}

function shortJson(value: object): string | null {
  try {
    const json = JSON.stringify(value);
    return json === undefined ? null : shownText(json, MAX_SHOWN_CHARS);
  } catch {
    return null;
  }
}
