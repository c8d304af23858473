import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv2020Module from "ajv/dist/2020.js";
import { ROOT } from "./cli.js";

// ajv is CommonJS: its default export sits one level down under ESM.
const Ajv2020 = ((Ajv2020Module as unknown as { default?: unknown }).default ?? Ajv2020Module) as typeof Ajv2020Module;
const ajv = new Ajv2020({ strict: true, allErrors: true });
ajv.addFormat("date-time", { type: "string", validate: (s: string) => !Number.isNaN(Date.parse(s)) });
const validateResult = ajv.compile(JSON.parse(readFileSync(join(ROOT, "docs", "result.schema.json"), "utf8")));

/** Throws, listing every error, unless `doc` is valid by docs/result.schema.json. */
export function expectValidDocument(doc: unknown): void {
  if (!validateResult(doc)) throw new Error(ajv.errorsText(validateResult.errors, { separator: "\n" }));
}
