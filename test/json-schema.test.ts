/**
 * Every command's --json output against the documented schemas
 * (docs/result.schema.json for the versioned documents, docs/replay.schema.json
 * for replay's fixed format), validated with ajv in strict mode, on real runs
 * of the built CLI. Also: the human page docs/json.md names every key the
 * schema has, and no key that holds a time or a rate lacks its unit.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Ajv2020Module from "ajv/dist/2020.js";
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT, runCli } from "./helpers/cli.js";

// ajv is CommonJS: its default export sits one level down under ESM.
const Ajv2020 = ((Ajv2020Module as unknown as { default?: unknown }).default ?? Ajv2020Module) as typeof Ajv2020Module;

const RESULT_SCHEMA = JSON.parse(readFileSync(join(ROOT, "docs", "result.schema.json"), "utf8"));
const REPLAY_SCHEMA = JSON.parse(readFileSync(join(ROOT, "docs", "replay.schema.json"), "utf8"));
const JSON_DOC = readFileSync(join(ROOT, "docs", "json.md"), "utf8");
const ORACLE = join(ROOT, "test", "fixtures", "oracle");

const ajv = new Ajv2020({ strict: true, allErrors: true });
ajv.addFormat("date-time", { type: "string", validate: (s: string) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(s) && !Number.isNaN(Date.parse(s)) });
ajv.addSchema(RESULT_SCHEMA);
ajv.addSchema(REPLAY_SCHEMA);

/** Validates against the whole schema and against the one document kind expected, with readable errors. */
function expectValid(doc: unknown, kind: string): void {
  for (const ref of [RESULT_SCHEMA.$id, `${RESULT_SCHEMA.$id}#/$defs/${kind}`]) {
    const validate = ajv.getSchema(ref)!;
    const ok = validate(doc);
    if (!ok) {
      // An undocumented key shows here as "must NOT have additional properties": add it to
      // docs/result.schema.json and docs/json.md (a rename or removal also bumps schemaVersion).
      throw new Error(`${kind} does not match ${ref}:\n${ajv.errorsText(validate.errors, { separator: "\n" })}`);
    }
  }
}

const dir = mkdtempSync(join(tmpdir(), "coropool-json-"));
function scenario(name: string, value: object): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(value));
  return path;
}
const IMBALANCE_TINY = scenario("imbalance.json", {
  kind: "imbalance",
  threads: 3,
  burstThread: 0,
  burst: 300,
  rounds: 2,
  inFlight: 50,
  poolSizeIncrease: 64,
  maxMapCount: 100000,
  seed: 1,
});
const RANDREAD_TINY = scenario("randread.json", { kind: "randread", threads: 1, blockSizes: ["4k"], iodepths: [1, 4], durationMs: 20, seed: 1 });
const STRESS_TINY = scenario("stress.json", {
  kind: "vma-exhaustion",
  guest: { iothreads: 2, mainLoop: true, devices: [{ name: "disk0", numQueues: 4, queueSize: 64 }] },
  rounds: 2,
  maxMapCount: 100000,
  seed: 3,
});

const BURST_IDLE_TINY = scenario("burst-idle.json", {
  kind: "burst-idle",
  threads: 3,
  burstThreads: 1,
  burst: 600,
  bursts: 1,
  quietMs: 50,
  rounds: 2,
  inFlight: 20,
  poolSizeIncrease: 1000,
  maxMapCount: 100000,
  seed: 1,
});

interface Ran {
  code: number | null;
  doc: Record<string, unknown>;
}
function runJson(args: string[]): Ran {
  const r = runCli([...args, "--json"], { timeoutMs: 120_000 });
  if (r.code !== 0 && r.code !== 3) throw new Error(`coropool ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return { code: r.code, doc: JSON.parse(r.stdout) };
}

const outputs: Record<string, Ran> = {};

describe("every command's --json output validates against docs/result.schema.json", () => {
  beforeAll(() => {
    outputs.stress = runJson(["stress", "--scenario", join(ROOT, "scenarios", "stress-small.json")]);
    outputs.imbalance = runJson(["imbalance", "--scenario", IMBALANCE_TINY]);
    outputs.randread = runJson(["randread", "--scenario", RANDREAD_TINY, "--policy", "legacy,batched,none"]);
    outputs.custom = runJson(["run", join(ROOT, "scenarios", "custom-example.json"), "--policy", "legacy,batched"]);
    outputs.runStress = runJson(["run", STRESS_TINY, "--policy", "batched"]);
    outputs.whatif = runJson(["whatif", join(ROOT, "test", "fixtures", "qemu-real", "virtio-p2-timestamped.trace.log.gz"), "--pool-inc", "1024", "--max-map-count", "65530", "--baseline-vmas", "1000"]);
    outputs.burstIdle = runJson(["run", BURST_IDLE_TINY, "--policy", "batched,elastic"]);
  }, 120_000);

  it("stress (legacy aborts: exit 3, the abort in the document)", () => {
    const { code, doc } = outputs.stress!;
    expect(code).toBe(3);
    expectValid(doc, "stressDocument");
    expect(Object.keys(doc).slice(0, 3)).toEqual(["schemaVersion", "command", "machine"]);
    expect(doc.schemaVersion).toBe(1);
    const runs = doc.runs as { policy: string; abort: unknown; samples: { tMs: number; pooledThreads: number[] }[] }[];
    expect(runs.map((r) => r.policy)).toEqual(["legacy", "batched"]);
    expect(runs[0]!.abort).not.toBeNull();
    // The time series: samples in time order, one pooled figure per thread.
    for (const r of runs) {
      expect(r.samples.length).toBeGreaterThan(1);
      expect(r.samples.every((s, i) => i === 0 || s.tMs >= r.samples[i - 1]!.tMs)).toBe(true);
      expect(r.samples.every((s) => s.pooledThreads.length === 4)).toBe(true);
    }
  });

  it("imbalance", () => {
    expectValid(outputs.imbalance!.doc, "imbalanceDocument");
    expect(outputs.imbalance!.code).toBe(0);
  });

  it("randread, with HDR percentiles p50 ≤ p90 ≤ p99 ≤ p99.9 in microseconds", () => {
    const { doc } = outputs.randread!;
    expectValid(doc, "randreadDocument");
    const cells = doc.cells as { figures: { latencyUs: Record<string, number> } }[];
    expect(cells).toHaveLength(6);
    for (const { figures } of cells) {
      const { p50, p90, p99, p999 } = figures.latencyUs;
      expect(p50! > 0 && p50! <= p90! && p90! <= p99! && p99! <= p999!).toBe(true);
    }
  });

  it("run, on a custom scenario and on a vma-exhaustion one", () => {
    expectValid(outputs.custom!.doc, "customDocument");
    expect(outputs.custom!.doc.command).toBe("run");
    expectValid(outputs.runStress!.doc, "stressDocument");
  });

  it("whatif, on a real QEMU log (each policy a row, with its series)", () => {
    expectValid(outputs.whatif!.doc, "whatifDocument");
    expect(outputs.whatif!.code).toBe(0);
    expect((outputs.whatif!.doc.rows as unknown[]).length).toBeGreaterThanOrEqual(4);
  });

  it("run, on a burst-idle scenario", () => {
    const { code, doc } = outputs.burstIdle!;
    expect(code).toBe(0);
    expectValid(doc, "burstIdleDocument");
    expect(doc.command).toBe("burst-idle");
  });

  it("demo (and its --report page is written beside)", () => {
    const page = join(dir, "demo.html");
    const { code, doc } = runJson(["demo", "--report", page]);
    expect(code).toBe(0);
    expectValid(doc, "demoDocument");
    expect(Object.keys(doc).slice(0, 3)).toEqual(["schemaVersion", "command", "machine"]);
    const html = readFileSync(page, "utf8");
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    for (const section of ["stress", "imbalance", "randread", "burst-idle", "machine"]) expect(html).toContain(`data-section="${section}"`);
  }, 120_000);

  it("stress --backend kernel's document (children, no time series) has its own definition", () => {
    // The real run maps stacks up to the host's limit in child processes; its
    // document's shape is checked here on a hand-made one of the same type.
    const run = structuredClone(outputs.runStress!.doc.runs as Record<string, unknown>[])[0]!;
    delete run.samples;
    const doc = {
      schemaVersion: 1,
      command: "stress",
      machine: outputs.stress!.doc.machine,
      backend: "kernel",
      scenarioFile: "scenarios/bug-report.json",
      scenario: outputs.stress!.doc.scenario,
      hostMaxMapCount: 65530,
      children: [
        { policy: "legacy", outcome: { kind: "qemu-abort", message: "failed to allocate memory for stack", detail: "mmap: ENOMEM", signal: "SIGABRT" }, lastVmas: 65500, realVmasAtDeath: 65530, durationMs: 4200 },
        { policy: "batched", outcome: { kind: "completed", result: run }, lastVmas: 43000, realVmasAtDeath: null, durationMs: 6100 },
        { policy: "none", outcome: { kind: "died", signal: "SIGTRAP", exitCode: null, lastWords: ["Fatal process out of memory"] }, lastVmas: 65000, realVmasAtDeath: null, durationMs: 3000 },
      ],
    };
    expectValid(doc, "kernelStressDocument");
  });

  it("keys that hold a time or a rate carry the unit in their name", () => {
    const bad = new Set<string>();
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) return v.forEach(walk);
      if (v === null || typeof v !== "object") return;
      for (const [k, child] of Object.entries(v)) {
        if (/(time|duration|latency|elapsed|wait|interval|delay|bandwidth|^t)$/i.test(k) && typeof child !== "string") bad.add(k);
        walk(child);
      }
    };
    Object.values(outputs).forEach((o) => walk(o.doc));
    expect([...bad]).toEqual([]);
  });
});

describe("replay's --json is its own fixed format (docs/replay.schema.json)", () => {
  it("one policy: exactly the object of docs/design.md#replay---json, keys in order, no schemaVersion", () => {
    const r = runCli(["replay", join(ORACLE, "traces/sample-01.trace"), "--policy", "legacy", "--max-map-count", "65530", "--baseline-vmas", "1000", "--json"]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    const validate = ajv.getSchema(REPLAY_SCHEMA.$id)!;
    expect(validate(doc), ajv.errorsText(validate.errors)).toBe(true);
    expect(Object.keys(doc)).toEqual(["policy", "events", "stacksCreated", "stacksFreed", "live", "pooled", "vmas", "failure"]);
  });

  it("several policies: an array of those objects", () => {
    const r = runCli(["replay", join(ORACLE, "traces/sample-02.trace"), "--policy", "legacy,batched", "--max-map-count", "1806", "--baseline-vmas", "1000", "--json"]);
    expect([0, 3]).toContain(r.code);
    const validate = ajv.getSchema(REPLAY_SCHEMA.$id)!;
    expect(validate(JSON.parse(r.stdout)), ajv.errorsText(validate.errors)).toBe(true);
  });
});

describe("docs/json.md describes the schema", () => {
  it("names every key the schema defines", () => {
    const keys = new Set<string>();
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) return v.forEach(walk);
      if (v === null || typeof v !== "object") return;
      const o = v as Record<string, unknown>;
      if (o.properties && typeof o.properties === "object") Object.keys(o.properties).forEach((k) => keys.add(k));
      Object.values(o).forEach(walk);
    };
    walk(RESULT_SCHEMA);
    walk(REPLAY_SCHEMA);
    const missing = [...keys].filter((k) => !JSON_DOC.includes(`\`${k}\``));
    expect(missing, "keys in the schema that docs/json.md never names (as `key`)").toEqual([]);
  });

  it("and the files it points to exist", () => {
    expect(existsSync(join(ROOT, "docs", "result.schema.json"))).toBe(true);
    expect(JSON_DOC).toContain("result.schema.json");
    expect(JSON_DOC).toContain("replay.schema.json");
  });
});
