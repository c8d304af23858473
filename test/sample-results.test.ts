/**
 * Issue 17, item 7: a coroutine's return value kept in `sampleResults` takes
 * at most 1 KiB of JSON, cut and marked (`cutSampleResults`) when longer, and
 * cut on the worker: what a worker sends back never holds the big value.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serialize } from "node:v8";
import Ajv2020Module from "ajv/dist/2020.js";
import { afterAll, describe, expect, it } from "vitest";
import { Runtime } from "../src/runtime/runtime.js";
import { StopControl } from "../src/runtime/stop-control.js";
import { ThreadEnv } from "../src/runtime/thread-env.js";
import { runCustomPart, type CustomPart, type CustomPartResult } from "../src/scenarios/custom/part.js";
import { loadWorkload } from "../src/scenarios/custom/workload.js";
import { ROOT, runCli } from "./helpers/cli.js";

const Ajv2020 = ((Ajv2020Module as unknown as { default?: unknown }).default ?? Ajv2020Module) as typeof Ajv2020Module;
const SCHEMA = JSON.parse(readFileSync(join(ROOT, "docs", "result.schema.json"), "utf8")) as { $id: string };
const validateDocument = new Ajv2020({ strict: true, allErrors: true, formats: { "date-time": true } }).compile(SCHEMA);

const TMP = mkdtempSync(join(tmpdir(), "coropool-sample-results-"));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

const MAX_BYTES = 1024;
/** Big enough to show where the cut happens; small enough for any test machine. */
const BIG_CHARS = 50_000_000;
const jsonBytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v));

/** Returns, by index: a 50 MB string, a cycle, a chain 100,000 deep, and 7. */
const BIG_VALUES_BODY = `
  yield;
  if (i === 0) return "x".repeat(${BIG_CHARS});
  if (i === 1) { const o = { name: "loop" }; o.self = o; return o; }
  if (i === 2) { let d = { end: true }; for (let k = 0; k < 100000; k++) d = { d }; return d; }
  return 7;`;

const MODULE = join(TMP, "big.mjs");
writeFileSync(MODULE, `export default { coroutines: () => [0, 1, 2, 3], *coroutine(i) {${BIG_VALUES_BODY}\n} };\n`);

function expectCutParts(part: CustomPartResult): void {
  expect(part.completed).toBe(4);
  expect(part.cutSampleResults).toEqual([0, 1, 2]);
  const [big, cycle, deep, seven] = part.sampleResults;
  for (const kept of [big, cycle, deep]) {
    expect(typeof kept).toBe("string");
    expect(jsonBytes(kept)).toBeLessThanOrEqual(MAX_BYTES);
    // Cut close to the limit, not to nothing.
    expect(jsonBytes(kept)).toBeGreaterThan(MAX_BYTES - 8);
  }
  expect(big).toBe(`"${"x".repeat((big as string).length - 1)}`);
  expect((cycle as string).startsWith('{"name":"loop","self":{"name":"loop","self":{')).toBe(true);
  expect((deep as string).startsWith('{"d":{"d":{"d":')).toBe(true);
  expect(seven).toBe(7);
}

describe("sample results are cut to 1 KiB of JSON, on the worker", () => {
  it("what a thread's part sends back holds no more than the cut values (50 MB string, cycle, deep chain)", async () => {
    const runtime = new Runtime({ threads: 1, policy: "batched", maxMapCount: 100_000, baselineVmas: 100 });
    const { region } = runtime.openRegion();
    const part: CustomPart = { kind: "custom", modulePath: MODULE, options: {}, seed: 1 };
    // This thread stands in for a worker: runCustomPart is the code a worker runs.
    const env = ThreadEnv.claim({ buffer: region.buffer, control: StopControl.create(1).buffer, parts: [part], barrierTimeoutMs: 10_000, taskId: 0, runStartNs: 0 });
    const result = runCustomPart(env, part, await loadWorkload(MODULE));
    env.exit();
    expectCutParts(result);
    // What postMessage would copy to the main thread: the structured clone of the part.
    expect(serialize(result).length).toBeLessThan(4 * MAX_BYTES + 1024);
  });

  it("run --json: the document holds the cut values, marked, and validates", () => {
    const scenario = join(TMP, "big.json");
    writeFileSync(scenario, JSON.stringify({ kind: "custom", module: "big.mjs", threads: 1, maxMapCount: 100000 }));
    const r = runCli(["run", scenario, "--policy", "batched", "--baseline-vmas", "100", "--json"], { timeoutMs: 120_000 });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { runs: { parts: CustomPartResult[] }[] };
    if (!validateDocument(doc)) throw new Error(JSON.stringify(validateDocument.errors));
    expectCutParts(doc.runs[0]!.parts[0]!);
  });
});
