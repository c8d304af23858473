/**
 * Checks a scenario file's value against docs/scenario.schema.json with ajv,
 * then the rules a schema cannot express (each kind's own, on its rules), and
 * reports the first refusal as a file is read:
 *
 *   the value itself ─ its unknown fields (in the file's order) ─ its fields
 *   (in the documented order) or items (in order), each all the way down ─
 *   checks across a list's items (unique device names).
 *
 * This is the order the fields depend on each other in (guest.iothreads
 * before the devices that name IOThreads, inFlight.min before inFlight.max),
 * so the words of a refusal may quote the fields before it.
 *
 * ajv is compiled on the first check only: worker threads import the scenario
 * kinds for their parts and never pay for it.
 */
import Ajv2020Module, { type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import { duplicateItems, isPlainObject, placeOf, valueAt, type ObjectRule, type Place, type Rule } from "./field-rules.js";
import { missing, notAllowed, type Refusal, type Segment } from "./refusal.js";
import { scenarioSchema } from "./scenario-schema.js";

// ajv is CommonJS: its class sits one level down under ESM.
const Ajv2020 = Ajv2020Module.default;

/** Where a refusal sits among those about one value (see the top of this file). */
const AT_VALUE = 0;
const AT_UNKNOWN_FIELD = 1;
const INSIDE = 2;
const ACROSS_ITEMS = 3;
/** After the value's own refusals: "the same as an earlier item" only counts for an item valid in itself. */
const AS_DUPLICATE = 1;

let compiled: ValidateFunction | undefined;

function schemaValidator(): ValidateFunction {
  compiled ??= new Ajv2020({ allErrors: true, strict: true }).compile(scenarioSchema());
  return compiled;
}

/**
 * The first refusal of `value` under the published schema and `root` (the
 * rules of the file's kind, or of a file without a valid kind).
 */
export function firstRefusal(value: unknown, root: ObjectRule): Refusal | null {
  const validate = schemaValidator();
  const schemaValid = validate(value);
  const refusals = (validate.errors ?? []).flatMap((error) => schemaRefusal(error, value, root) ?? []);
  collectHandRefusals(root, value, { root: value, path: [] }, root, refusals);
  if (!schemaValid && refusals.length === 0) {
    // Every schema error has its refusal; one without is a bug here, not a valid file.
    throw new Error(`scenario schema refused the file without a message: ${JSON.stringify(validate.errors)}`);
  }
  refusals.sort((a, b) => compareOrder(a.order, b.order));
  return refusals[0] ?? null;
}

// ---------------------------------------------------------------- schema errors

function schemaRefusal(error: ErrorObject, value: unknown, root: ObjectRule): Refusal | null {
  const path = pathOf(value, error.instancePath);
  switch (error.keyword) {
    case "required": {
      const at = [...path, (error.params as { missingProperty: string }).missingProperty];
      return { path: at, what: missing(ruleAt(root, at).allowed(placeIn(value, at))), order: orderOf(root, at, [AT_VALUE]) };
    }
    case "additionalProperties": {
      const name = (error.params as { additionalProperty: string }).additionalProperty;
      const parent = ruleAt(root, path) as ObjectRule;
      const listed = Object.keys(parent.fields).filter((field) => !parent.metaFields.includes(field));
      const keyIndex = Object.keys(valueAt(value, path) as object).indexOf(name);
      return {
        path: [...path, name],
        what: `unknown field; allowed fields${parent.fieldsContext}: ${listed.join(", ")}`,
        order: orderOf(root, path, [AT_UNKNOWN_FIELD, keyIndex]),
      };
    }
    // "then" failed: its own errors say where. Repeated items: the list's duplicate check says which.
    case "if":
    case "uniqueItems":
      return null;
    default:
      return valueRefusal(root, value, path);
  }
}

/** ajv's instancePath (a JSON Pointer) as field names and list indices, read against the value. */
function pathOf(value: unknown, pointer: string): Segment[] {
  if (pointer === "") return [];
  const path: Segment[] = [];
  let at = value;
  for (const token of pointer.slice(1).split("/")) {
    const name = token.replaceAll("~1", "/").replaceAll("~0", "~");
    const segment = Array.isArray(at) ? Number(name) : name;
    path.push(segment);
    at = (at as Record<Segment, unknown>)[segment];
  }
  return path;
}

// ---------------------------------------------------------------- hand checks

/** Walks the value along its rules, collecting what each rule's own checks refuse. */
function collectHandRefusals(rule: Rule, value: unknown, place: Place, root: ObjectRule, out: Refusal[]): void {
  if (!rule.accepts(value, place)) out.push(valueRefusal(root, place.root, place.path));
  if (rule.shape === "object" && isPlainObject(value)) {
    for (const [name, field] of Object.entries(rule.fields)) {
      if (Object.hasOwn(value, name)) collectHandRefusals(field.rule, value[name], placeOf(place, name), root, out);
    }
  } else if (rule.shape === "list" && Array.isArray(value) && value.length <= rule.maxItems) {
    value.forEach((item, index) => collectHandRefusals(rule.item, item, placeOf(place, index), root, out));
    if (rule.distinct) {
      for (const d of duplicateItems(rule, value, place)) out.push({ ...d, order: orderOf(root, d.path, [AT_VALUE, AS_DUPLICATE]) });
    }
    for (const r of rule.acrossItems(value, place)) out.push({ ...r, order: orderOf(root, place.path, [ACROSS_ITEMS]) });
  }
}

// ---------------------------------------------------------------- places and order

function valueRefusal(root: ObjectRule, value: unknown, path: Segment[] | readonly Segment[]): Refusal {
  const at = [...path];
  return { path: at, what: notAllowed(valueAt(value, at), ruleAt(root, at).allowed(placeIn(value, at))), order: orderOf(root, at, [AT_VALUE]) };
}

function placeIn(root: unknown, path: readonly Segment[]): Place {
  return { root, path };
}

/** The rule for the value at `path`. */
function ruleAt(root: Rule, path: readonly Segment[]): Rule {
  return path.reduce<Rule>((rule, segment) => childRule(rule, segment), root);
}

function childRule(rule: Rule, segment: Segment): Rule {
  if (rule.shape === "object" && typeof segment === "string" && Object.hasOwn(rule.fields, segment)) return rule.fields[segment]!.rule;
  if (rule.shape === "list" && typeof segment === "number") return rule.item;
  throw new Error(`scenario rules have no place for ${JSON.stringify(segment)}`);
}

/** Where the value at `path` comes in reading order, then `rank` among the refusals about it. */
function orderOf(root: Rule, path: readonly Segment[], rank: number[]): number[] {
  const order: number[] = [];
  let rule = root;
  for (const segment of path) {
    order.push(INSIDE, rule.shape === "object" ? Object.keys(rule.fields).indexOf(segment as string) : (segment as number));
    rule = childRule(rule, segment);
  }
  return [...order, ...rank];
}

function compareOrder(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
