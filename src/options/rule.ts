/**
 * What one option allows, written once and checked the same at every door:
 * a flag's text from the command line and a value from a program go through
 * the same `check`, and a refusal ends with the same `allowed` words.
 *
 *   flag text ── fromText ──┐
 *                           ├── check ── the resolved value, or REFUSED
 *   API value ──────────────┘
 */
import { parseByteSize, formatByteSize } from "../byte-size.js";

/** What `check` returns for a value the rule does not allow. */
export const REFUSED: unique symbol = Symbol("refused");

export interface OptionRule<T> {
  /** What is allowed, in words: the end of every message that refuses a value. */
  readonly allowed: string;
  /**
   * A flag's text as a program would pass the value ("64k" → 65536, "a,b" →
   * ["a", "b"]); text that cannot be read stays text, so `check` refuses it.
   */
  fromText(text: string): unknown;
  /** The value as the layers below take it, or REFUSED. */
  check(value: unknown): T | typeof REFUSED;
  /** Which part of a refused value is wrong, where the value has parts ("fifo is none", "legacy twice"). */
  explain?(value: unknown): string | null;
}

const AS_TEXT = (text: string): unknown => text;

/** An integer in [min, max]. A flag's text must be digits (a leading '-' for negative bounds). */
export function integer(min: number, max: number, allowed = `an integer from ${min} to ${max}`): OptionRule<number> {
  return {
    allowed,
    fromText: (text) => (/^-?\d+$/.test(text) ? Number(text) : text),
    check: (value) => (typeof value === "number" && Number.isSafeInteger(value) && value >= min && value <= max ? value : REFUSED),
  };
}

/** A size in bytes, a multiple of `multiple` up to `max`: a number, or text like "64k" (programs may pass either). */
export function byteSize(multiple: number, max: number, examples: string): OptionRule<number> {
  const check = (value: unknown): number | typeof REFUSED => {
    const bytes = typeof value === "string" ? parseByteSize(value) : value;
    return typeof bytes === "number" && Number.isSafeInteger(bytes) && bytes > 0 && bytes % multiple === 0 && bytes <= max ? bytes : REFUSED;
  };
  return { allowed: `a multiple of ${multiple} bytes up to ${formatByteSize(max)}, e.g. ${examples}`, fromText: AS_TEXT, check };
}

/** One of a few strings. */
export function oneOf<T extends string>(values: readonly T[], allowed = values.join(", ")): OptionRule<T> {
  return { allowed, fromText: AS_TEXT, check: (value) => (values.includes(value as T) ? (value as T) : REFUSED) };
}

/** true or false; a flag is true by being there. */
export const BOOLEAN: OptionRule<boolean> = {
  allowed: "true or false",
  fromText: AS_TEXT,
  check: (value) => (typeof value === "boolean" ? value : REFUSED),
};

/**
 * 1 to `maxItems` distinct items, each allowed by `item`; a flag's text is a
 * comma list. An empty item ("a,", ",b") is refused with the whole list.
 */
export function distinctList<T>(item: OptionRule<T>, maxItems: number, allowed: string): OptionRule<T[]> {
  return {
    allowed,
    fromText: (text) => text.split(",").map((s) => item.fromText(s.trim())),
    explain(value) {
      if (!Array.isArray(value) || value.length === 1) return null;
      if (value.length > maxItems) return `${value.length} items`;
      const items: T[] = [];
      for (const given of value) {
        if (given === "") return "an empty item";
        const checked = item.check(given);
        if (checked === REFUSED) return `${String(given)} is not allowed`;
        if (items.includes(checked)) return `${String(given)} twice`;
        items.push(checked);
      }
      return null;
    },
    check(value) {
      if (!Array.isArray(value) || value.length < 1 || value.length > maxItems) return REFUSED;
      const items: T[] = [];
      for (const given of value) {
        const checked = item.check(given);
        if (checked === REFUSED || items.includes(checked)) return REFUSED;
        items.push(checked);
      }
      return items;
    },
  };
}

/** A function (a callback); only programs pass these. */
export function callback<F>(): OptionRule<F> {
  return { allowed: "a function", fromText: AS_TEXT, check: (value) => (typeof value === "function" ? (value as F) : REFUSED) };
}

export const ABORT_SIGNAL: OptionRule<AbortSignal> = {
  allowed: "an AbortSignal (e.g. AbortController's signal, AbortSignal.timeout(ms))",
  fromText: AS_TEXT,
  check: (value) => (value instanceof AbortSignal ? value : REFUSED),
};

/** A plain object whose values a worker thread can receive (structured clone: no functions, no symbols). */
export const CLONEABLE_OBJECT: OptionRule<Record<string, unknown>> = {
  allowed: "a plain object of values a worker thread can receive (no functions or symbols)",
  fromText: AS_TEXT,
  check(value) {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return REFUSED;
    try {
      structuredClone(value);
    } catch {
      return REFUSED;
    }
    return value as Record<string, unknown>;
  },
};

/** Text that is not empty (a name or a path). */
export function nonEmptyText(allowed: string): OptionRule<string> {
  return { allowed, fromText: AS_TEXT, check: (value) => (typeof value === "string" && value.trim() !== "" ? value : REFUSED) };
}

/** A rule that reads its value with a function that throws on a bad one (parsers that already exist). */
export function parsed<T>(allowed: string, parse: (value: unknown) => T): OptionRule<T> {
  return {
    allowed,
    fromText: AS_TEXT,
    check(value) {
      try {
        return parse(value);
      } catch {
        return REFUSED;
      }
    },
  };
}
