/**
 * A result document against the published schema, docs/result.schema.json
 * (the file a command's --json output is tested against and docs/json.md
 * describes): what `coropool report` and the library's renderReport accept.
 * ajv compiles a document kind on its first check only, so a command that
 * never reads a result never pays for it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv2020Module, { type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import { projectRoot } from "../project-root.js";

// ajv is CommonJS: its class sits one level down under ESM.
const Ajv2020 = Ajv2020Module.default;

/** The schema's document kinds, by the name of their $defs entry. */
export type DocumentKind =
  | "stressDocument"
  | "kernelStressDocument"
  | "imbalanceDocument"
  | "randreadDocument"
  | "customDocument"
  | "demoDocument"
  | "whatifDocument"
  | "burstIdleDocument"
  | "planDocument";

/** An ISO 8601 UTC time as machineInfo() writes it (generatedAt). */
const DATE_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

const validators = new Map<DocumentKind, ValidateFunction>();

/**
 * The validator of one document kind: the published schema with its $ref
 * pointed at that kind alone, so ajv compiles only the definitions the kind
 * uses (the whole oneOf took four times as long: seconds on a busy machine).
 */
function validatorOf(kind: DocumentKind): ValidateFunction {
  let validate = validators.get(kind);
  if (validate === undefined) {
    const { oneOf: _all, ...published } = JSON.parse(readFileSync(join(projectRoot(), "docs", "result.schema.json"), "utf8")) as Record<string, unknown>;
    const ajv = new Ajv2020({ strict: true });
    ajv.addFormat("date-time", { type: "string", validate: (s: string) => DATE_TIME.test(s) && !Number.isNaN(Date.parse(s)) });
    validate = ajv.compile({ ...published, $ref: `#/$defs/${kind}` });
    validators.set(kind, validate);
  }
  return validate;
}

/**
 * The first place where `value` is not a document of `kind` as the schema
 * says, in words ("runs[0].vmas: must have required property 'peak'");
 * null when it is one.
 */
export function schemaProblem(value: unknown, kind: DocumentKind): string | null {
  const validate = validatorOf(kind);
  return validate(value) ? null : describeError(validate.errors![0]!);
}

function describeError(error: ErrorObject): string {
  const place = placeOf(error.instancePath);
  const extra = error.keyword === "additionalProperties" ? ` ('${(error.params as { additionalProperty: string }).additionalProperty}')` : "";
  return `${place === "" ? "the document" : place}: ${error.message ?? error.keyword}${extra}`;
}

/** ajv's instancePath (a JSON Pointer) as keys and list indices: "/runs/0/vmas" → "runs[0].vmas". */
function placeOf(pointer: string): string {
  if (pointer === "") return "";
  return pointer
    .slice(1)
    .split("/")
    .map((token) => token.replaceAll("~1", "/").replaceAll("~0", "~"))
    .reduce((path, key) => (/^\d+$/.test(key) ? `${path}[${key}]` : path === "" ? key : `${path}.${key}`), "");
}
