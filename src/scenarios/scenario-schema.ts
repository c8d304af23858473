/**
 * The scenario file's JSON Schema, built from every kind's rules: what
 * docs/scenario.schema.json holds (a test keeps the file equal to this) and
 * what ajv checks files against. A file names it with "$schema", so editors
 * complete and check it as it is written.
 */
import { FILE_WITHOUT_KIND } from "./common-fields.js";
import type { JsonSchema } from "./field-rules.js";
import { SCENARIO_KIND_SPECS } from "./registry.js";
import { SCENARIO_KINDS } from "./types.js";

export const SCENARIO_SCHEMA_ID = "https://coropool.invalid/schema/scenario.json";

let document: JsonSchema | undefined;

export function scenarioSchema(): JsonSchema {
  document ??= {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: SCENARIO_SCHEMA_ID,
    title: "coropool scenario file",
    description:
      "One JSON object; its kind says what runs and which other fields it may have (scenarios/README.md). " +
      "Unknown fields are errors, so a misspelt optional field is not silently replaced by its default.",
    type: "object",
    properties: FILE_WITHOUT_KIND.schema["properties"],
    required: FILE_WITHOUT_KIND.schema["required"],
    allOf: SCENARIO_KINDS.map((kind) => ({
      if: { properties: { kind: { const: kind } }, required: ["kind"] },
      then: SCENARIO_KIND_SPECS[kind].file.schema,
    })),
  };
  return document;
}
