/**
 * The rules of a scenario file's fields, each written once and used three
 * ways: as JSON Schema (docs/scenario.schema.json, which ajv enforces and
 * editors show), as the words of the messages that refuse a value, and to
 * read a checked file into a Scenario with its defaults filled in.
 *
 *   rule ── schema ────────── ajv: is the file valid, and where not
 *        ── allowed(place) ── "…; allowed: an integer from 1 to 64"
 *        ── accepts(value) ── what a schema cannot say (one field against another)
 *        ── read(value) ───── the scenario's value (defaults, "4k" as 4096)
 *
 * A value is refused with its rule's `allowed` text whichever check failed,
 * so one field always reads the same in every message about it.
 */
import { isDeepStrictEqual } from "node:util";
import { notAllowed, pathText, type Segment } from "./refusal.js";

/** A JSON Schema object (draft 2020-12). */
export type JsonSchema = Record<string, unknown>;

/** Where a value sits: in the file's whole value `root` (for rules that depend on another field), at `path`. */
export interface Place {
  readonly root: unknown;
  readonly path: readonly Segment[];
}

export function placeOf(parent: Place, segment: Segment): Place {
  return { root: parent.root, path: [...parent.path, segment] };
}

/** The value at `path` in `root`, or undefined where there is none. */
export function valueAt(root: unknown, path: readonly Segment[]): unknown {
  let value = root;
  for (const segment of path) {
    if (typeof value !== "object" || value === null || !Object.hasOwn(value, segment)) return undefined;
    value = (value as Record<Segment, unknown>)[segment];
  }
  return value;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

interface BaseRule {
  readonly schema: JsonSchema;
  /** What is allowed, in words: the end of every message that refuses this value. */
  allowed(place: Place): string;
  /** A check the schema cannot express; any JSON value may come here, valid or not. */
  accepts(value: unknown, place: Place): boolean;
  /** The checked value as the scenario holds it. */
  read(value: unknown, place: Place): unknown;
}

export interface ValueRule extends BaseRule {
  readonly shape: "value";
}

/** A field of an object: its rule, its help text, and its default (none: required). */
export interface Field {
  readonly rule: Rule;
  readonly description: string;
  readonly fallback?: Fallback;
}

/** A default: a fixed value (published in the schema), or one that depends on the file (described in words). */
export type Fallback = { readonly value: unknown } | { readonly from: (place: Place) => unknown };

export interface ObjectRule extends BaseRule {
  readonly shape: "object";
  /** In the order a user reads them: messages and read scenarios list them so. */
  readonly fields: Readonly<Record<string, Field>>;
  /** Fields about the file rather than the scenario ("$schema"): allowed, but not listed in messages nor read. */
  readonly metaFields: readonly string[];
  /** Added to "allowed fields" in the unknown-field message, e.g. ` for kind "randread"`. */
  readonly fieldsContext: string;
}

/** A refusal a list makes about its items as a whole, at a place inside it. */
export interface ItemsRefusal {
  path: Segment[];
  what: string;
}

export interface ListRule extends BaseRule {
  readonly shape: "list";
  readonly item: Rule;
  readonly maxItems: number;
  /** No two items may read the same (so "4k" and 4096 are one block size). */
  readonly distinct: boolean;
  /** Checks across the items, made once every item is valid (unique device names). */
  acrossItems(items: unknown[], place: Place): ItemsRefusal[];
}

export type Rule = ValueRule | ObjectRule | ListRule;

/** `allowed` as given: fixed words, or words that depend on the file. */
export type Allowed = string | ((place: Place) => string);

function allowedFn(allowed: Allowed): (place: Place) => string {
  return typeof allowed === "string" ? () => allowed : allowed;
}

const ACCEPT_ALL = (): boolean => true;
const AS_GIVEN = (value: unknown): unknown => value;

interface ValueOptions {
  allowed: Allowed;
  accepts?: (value: unknown, place: Place) => boolean;
  read?: (value: unknown, place: Place) => unknown;
}

/** A value without fields or items of its own: a number, a string, a JSON object passed through. */
export function value(schema: JsonSchema, options: ValueOptions): ValueRule {
  return {
    shape: "value",
    schema,
    allowed: allowedFn(options.allowed),
    accepts: options.accepts ?? ACCEPT_ALL,
    read: options.read ?? AS_GIVEN,
  };
}

/** An integer in [min, max]; the words default to "an integer from min to max". */
export function integer(min: number, max: number, options: Partial<ValueOptions> = {}): ValueRule {
  return value({ type: "integer", minimum: min, maximum: max }, { allowed: `an integer from ${min} to ${max}`, ...options });
}

/** A number in [min, max], or in (min, max] when `minExclusive`. */
export function numberIn(min: number, max: number, allowed: Allowed, minExclusive = false): ValueRule {
  const lower = minExclusive ? { exclusiveMinimum: min } : { minimum: min };
  return value({ type: "number", ...lower, maximum: max }, { allowed });
}

/** A string; `nonEmpty` wants something besides white space (JavaScript's \s is what trim() removes). */
export function text(allowed: string, nonEmpty: boolean): ValueRule {
  return value({ type: "string", ...(nonEmpty ? { pattern: "\\S" } : {}) }, { allowed });
}

export const BOOLEAN = value({ type: "boolean" }, { allowed: "true or false" });

/** One of a few values, listed in the schema so editors offer them. */
export function oneOf(values: readonly (string | number)[], allowed: string): ValueRule {
  return value({ enum: [...values] }, { allowed });
}

/** null, or what `rule` allows. */
export function nullOr(rule: ValueRule, allowed: string): ValueRule {
  return value({ anyOf: [{ type: "null" }, rule.schema] }, { allowed, accepts: (v, place) => v === null || rule.accepts(v, place) });
}

export function required(rule: Rule, description: string): Field {
  return { rule, description };
}

export function optional(rule: Rule, fallback: unknown, description: string): Field {
  return { rule, description, fallback: { value: fallback } };
}

/** A default that depends on the file, such as a device's name from its index: described in `description`. */
export function optionalFrom(rule: Rule, from: (place: Place) => unknown, description: string): Field {
  return { rule, description, fallback: { from } };
}

interface ObjectOptions {
  allowed: string;
  description?: string;
  metaFields?: Record<string, Field>;
  fieldsContext?: string;
}

/** An object with exactly these fields (and the meta fields): any other is refused. */
export function object(fields: Record<string, Field>, options: ObjectOptions): ObjectRule {
  const meta = options.metaFields ?? {};
  const all = { ...meta, ...fields };
  return {
    shape: "object",
    schema: objectSchema(all, options.description),
    fields: all,
    metaFields: Object.keys(meta),
    fieldsContext: options.fieldsContext ?? "",
    allowed: () => options.allowed,
    accepts: ACCEPT_ALL,
    read: (given, place) => readObject(fields, given as Record<string, unknown>, place),
  };
}

function objectSchema(fields: Record<string, Field>, description: string | undefined): JsonSchema {
  const properties = Object.fromEntries(Object.entries(fields).map(([name, field]) => [name, fieldSchema(field)]));
  const required = Object.entries(fields)
    .filter(([, field]) => field.fallback === undefined)
    .map(([name]) => name);
  return {
    type: "object",
    ...(description === undefined ? {} : { description }),
    properties,
    ...(required.length > 0 ? { required } : {}),
    additionalProperties: false,
  };
}

function fieldSchema(field: Field): JsonSchema {
  const fallback = field.fallback !== undefined && "value" in field.fallback ? { default: field.fallback.value } : {};
  return { description: field.description, ...fallback, ...field.rule.schema };
}

/** The fields in their order, each as given or its default (a fresh copy: no two scenarios share a list). */
function readObject(fields: Record<string, Field>, given: Record<string, unknown>, place: Place): Record<string, unknown> {
  const scenario: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(fields)) {
    const at = placeOf(place, name);
    scenario[name] = Object.hasOwn(given, name) ? field.rule.read(given[name], at) : fallbackValue(field.fallback!, at);
  }
  return scenario;
}

function fallbackValue(fallback: Fallback, place: Place): unknown {
  return "value" in fallback ? structuredClone(fallback.value) : fallback.from(place);
}

interface ListOptions {
  item: Rule;
  itemDescription: string;
  maxItems: number;
  allowed: Allowed;
  distinct?: boolean;
  acrossItems?: (items: unknown[], place: Place) => ItemsRefusal[];
}

/** A list of 1 to `maxItems` items, each checked by `item`. */
export function list(options: ListOptions): ListRule {
  const distinct = options.distinct ?? false;
  return {
    shape: "list",
    schema: {
      type: "array",
      items: { description: options.itemDescription, ...options.item.schema },
      minItems: 1,
      maxItems: options.maxItems,
      ...(distinct ? { uniqueItems: true } : {}),
    },
    item: options.item,
    maxItems: options.maxItems,
    distinct,
    acrossItems: options.acrossItems ?? (() => []),
    allowed: allowedFn(options.allowed),
    accepts: ACCEPT_ALL,
    read: (items, place) => (items as unknown[]).map((item, index) => options.item.read(item, placeOf(place, index))),
  };
}

/** A list of 1 to `maxItems` values, no value twice: "a list of 1 to 64 distinct values, each <item>". */
export function distinctList(item: Rule, itemDescription: string, maxItems: number): ListRule {
  return list({
    item,
    itemDescription,
    maxItems,
    distinct: true,
    allowed: (place) => `a list of 1 to ${maxItems} distinct values, each ${item.allowed(placeOf(place, 0))}`,
  });
}

/**
 * Items of a distinct list that read the same as an earlier one, each named
 * with the first it repeats. Items are compared as read, so two spellings of
 * one value are caught; an item that is itself invalid is refused for that first.
 */
export function duplicateItems(rule: ListRule, items: unknown[], place: Place): ItemsRefusal[] {
  const read = items.map((item, index) => rule.item.read(item, placeOf(place, index)));
  const refusals: ItemsRefusal[] = [];
  read.forEach((value, index) => {
    const first = read.findIndex((other) => isDeepStrictEqual(other, value));
    if (first === index) return;
    const path = [...place.path, index];
    refusals.push({ path, what: notAllowed(items[index], `no duplicates (the same as ${pathText([...place.path, first])})`) });
  });
  return refusals;
}
