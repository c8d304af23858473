import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import Ajv2020Module from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { InputError } from "../src/errors.js";
import { LEGACY_INITIAL_POOL_MAX_SIZE } from "../src/pools/legacy.js";
import type { GuestConfig, StressScenario } from "../src/scenarios/types.js";
import { devicePoolSizeIncrease, guestPoolSizeIncrease, iothreadQueueEntries } from "../src/scenarios/guest.js";
import {
  loadScenarioFile,
  parseScenario,
  SCENARIO_ERROR,
} from "../src/scenarios/validate.js";
import { scenarioSchema } from "../src/scenarios/scenario-schema.js";
import { LINUX_DEFAULT_MAX_MAP_COUNT } from "../src/vma/limits.js";

// ajv is CommonJS: its class sits one level down under ESM.
const Ajv2020 = Ajv2020Module.default;

const SCENARIOS = join(import.meta.dirname, "..", "scenarios");
const SHIPPED = ["bug-report.json", "stress-small.json", "imbalance.json", "randread.json", "custom-example.json"];
const SOURCE = "scenarios/x.json";

/** Minimal valid files of each kind: only the required fields. */
const MINIMAL = {
  stress: { kind: "vma-exhaustion", guest: { iothreads: 4, devices: [{ numQueues: 64 }, { numQueues: 64 }] } },
  imbalance: { kind: "imbalance", threads: 4, burst: 1000, inFlight: 100 },
  randread: { kind: "randread" },
  custom: { kind: "custom", module: "workloads/echo.mjs" },
  burstIdle: { kind: "burst-idle", threads: 4, burst: 1000, inFlight: 100 },
} as const;

type Json = Record<string, unknown>;

function parse(value: unknown): ReturnType<typeof parseScenario> {
  return parseScenario(JSON.stringify(value), SOURCE);
}

/** A copy of a minimal file with some fields changed (undefined removes a field). */
function changed(base: keyof typeof MINIMAL, edit: (s: Json) => void): Json {
  const copy = structuredClone(MINIMAL[base]) as Json;
  edit(copy);
  return copy;
}

function guestOf(s: Json): Json {
  return s["guest"] as Json;
}

function devicesOf(s: Json): Json[] {
  return guestOf(s)["devices"] as Json[];
}

function errorOf(run: () => unknown): InputError {
  try {
    run();
  } catch (err) {
    if (err instanceof InputError) return err;
    throw err;
  }
  throw new Error("expected an InputError, got none");
}

describe("shipped scenario files", () => {
  it.each(SHIPPED)("%s validates", (file) => {
    const scenario = loadScenarioFile(join(SCENARIOS, file));
    expect(scenario.description).not.toBe("");
  });

  it("bug-report.json is the seed's configuration: pool size 16448 at Linux's default limit", () => {
    const scenario = loadScenarioFile(join(SCENARIOS, "bug-report.json")) as StressScenario;
    expect(scenario.kind).toBe("vma-exhaustion");
    expect(scenario.guest.iothreads).toBe(4);
    expect(scenario.guest.mainLoop).toBe(true);
    expect(scenario.guest.devices.map((d) => [d.numQueues, d.queueSize, d.iothreads])).toEqual([
      [64, 256, [0, 1, 2, 3]],
      [64, 256, [0, 1, 2, 3]],
    ]);
    expect(scenario.maxMapCount).toBe(LINUX_DEFAULT_MAX_MAP_COUNT);
    expect(scenario.inFlight).toEqual({ min: 0.5, max: 0.75 });
    expect(LEGACY_INITIAL_POOL_MAX_SIZE + guestPoolSizeIncrease(scenario.guest)).toBe(16448);
    expect(iothreadQueueEntries(scenario.guest)).toEqual([8192, 8192, 8192, 8192]);
  });

  it("stress-small.json is the same shape, scaled down", () => {
    const scenario = loadScenarioFile(join(SCENARIOS, "stress-small.json")) as StressScenario;
    expect(scenario.guest.mainLoop).toBe(false);
    expect(LEGACY_INITIAL_POOL_MAX_SIZE + guestPoolSizeIncrease(scenario.guest)).toBe(1088);
    expect(iothreadQueueEntries(scenario.guest)).toEqual([512, 512, 512, 512]);
    expect(scenario.maxMapCount).toBeLessThan(LINUX_DEFAULT_MAX_MAP_COUNT);
  });

  it("randread.json asks for 4k and 128k at iodepths 1 to 64", () => {
    expect(loadScenarioFile(join(SCENARIOS, "randread.json"))).toMatchObject({
      blockSizes: [4096, 131072],
      iodepths: [1, 8, 16, 32, 64],
    });
  });
});

describe("defaults", () => {
  it("vma-exhaustion: rounds, inFlight, main loop, host limit, device queue size and IOThreads", () => {
    expect(parse(MINIMAL.stress)).toEqual({
      kind: "vma-exhaustion",
      description: "",
      guest: {
        iothreads: 4,
        mainLoop: true,
        devices: [
          { name: "disk0", numQueues: 64, queueSize: 256, iothreads: [0, 1, 2, 3] },
          { name: "disk1", numQueues: 64, queueSize: 256, iothreads: [0, 1, 2, 3] },
        ],
      },
      rounds: 6,
      inFlight: { min: 0.5, max: 0.75 },
      mainLoopInFlight: 64,
      maxMapCount: null,
      seed: 1,
    });
  });

  it("imbalance: burstThread 0, 10 rounds, no pool-size increase", () => {
    expect(parse(MINIMAL.imbalance)).toEqual({
      kind: "imbalance",
      description: "",
      threads: 4,
      burstThread: 0,
      burst: 1000,
      rounds: 10,
      inFlight: 100,
      poolSizeIncrease: 0,
      maxMapCount: null,
      seed: 1,
    });
  });

  it("randread: the seed's block sizes and iodepths, an NVMe-like device", () => {
    expect(parse(MINIMAL.randread)).toEqual({
      kind: "randread",
      description: "",
      threads: 1,
      blockSizes: [4096, 131072],
      iodepths: [1, 8, 16, 32, 64],
      durationMs: 1000,
      device: { latencyUs: 7.31, bandwidthMBps: 2300 },
      seed: 1,
    });
  });

  it("randread: a device field given alone keeps the other's default", () => {
    expect(parse({ kind: "randread", device: { latencyUs: 100 } })).toMatchObject({
      device: { latencyUs: 100, bandwidthMBps: 2300 },
    });
  });

  it("custom: one thread, empty options, host limit", () => {
    expect(parse(MINIMAL.custom)).toEqual({
      kind: "custom",
      description: "",
      module: "workloads/echo.mjs",
      threads: 1,
      options: {},
      maxMapCount: null,
      seed: 1,
    });
  });

  it("fills defaults afresh each time: one result's lists are not another's", () => {
    const a = parse(MINIMAL.randread) as { iodepths: number[] };
    a.iodepths.push(128);
    expect(parse(MINIMAL.randread)).toMatchObject({ iodepths: [1, 8, 16, 32, 64] });
  });
});

describe("block sizes", () => {
  it.each([
    ["4k", 4096],
    ["128K", 131072],
    ["1m", 1048576],
    ["16m", 16777216],
    ["512", 512],
    [3072, 3072],
  ])("%j is %d bytes", (given, bytes) => {
    expect(parse({ kind: "randread", blockSizes: [given] })).toMatchObject({ blockSizes: [bytes] });
  });
});

const KINDS = `one of "vma-exhaustion", "imbalance", "randread", "custom", "burst-idle"`;
const BLOCK = `a multiple of 512 bytes from 512 to 16m, as an integer of bytes or a string like "4k", "128k", "1m"`;
const MAP_COUNT = "null (the host's vm.max_map_count) or an integer from 1 to 2147483647";

/** [what is wrong, the file, the exact message after "scenarios/x.json: "] */
const BAD_INPUTS: [string, unknown, string][] = [
  ["not an object", [1, 2], `[1,2] is not allowed; allowed: a JSON object with a "kind" field`],
  ["no kind", { guest: {} }, `kind: missing; allowed: ${KINDS}`],
  ["unknown kind", { kind: "replay" }, `kind: "replay" is not allowed; allowed: ${KINDS}`],
  [
    "unknown top-level field",
    changed("stress", (s) => (s["round"] = 3)),
    `round: unknown field; allowed fields for kind "vma-exhaustion": kind, description, guest, rounds, inFlight, mainLoopInFlight, maxMapCount, seed`,
  ],
  [
    "a field of another kind",
    changed("randread", (s) => (s["maxMapCount"] = 100)),
    `maxMapCount: unknown field; allowed fields for kind "randread": kind, description, threads, blockSizes, iodepths, durationMs, device, seed`,
  ],
  ["no guest", { kind: "vma-exhaustion" }, "guest: missing; allowed: an object with iothreads, mainLoop and devices"],
  ["guest not an object", { kind: "vma-exhaustion", guest: 4 }, "guest: 4 is not allowed; allowed: an object with iothreads, mainLoop and devices"],
  ["no IOThreads", changed("stress", (s) => (guestOf(s)["iothreads"] = 0)), "guest.iothreads: 0 is not allowed; allowed: an integer from 1 to 64"],
  ["too many IOThreads", changed("stress", (s) => (guestOf(s)["iothreads"] = 65)), "guest.iothreads: 65 is not allowed; allowed: an integer from 1 to 64"],
  ["IOThreads as a string", changed("stress", (s) => (guestOf(s)["iothreads"] = "4")), `guest.iothreads: "4" is not allowed; allowed: an integer from 1 to 64`],
  ["mainLoop not a boolean", changed("stress", (s) => (guestOf(s)["mainLoop"] = "yes")), `guest.mainLoop: "yes" is not allowed; allowed: true or false`],
  ["no devices", changed("stress", (s) => (guestOf(s)["devices"] = [])), "guest.devices: [] is not allowed; allowed: a list of 1 to 32 devices"],
  [
    "queue size not a power of two",
    changed("stress", (s) => (devicesOf(s)[1]!["queueSize"] = 300)),
    "guest.devices[1].queueSize: 300 is not allowed; allowed: a power of two from 4 to 1024",
  ],
  [
    "queue size past virtio's limit",
    changed("stress", (s) => (devicesOf(s)[0]!["queueSize"] = 2048)),
    "guest.devices[0].queueSize: 2048 is not allowed; allowed: a power of two from 4 to 1024",
  ],
  [
    "too many queues",
    changed("stress", (s) => (devicesOf(s)[0]!["numQueues"] = 1025)),
    "guest.devices[0].numQueues: 1025 is not allowed; allowed: an integer from 1 to 1024",
  ],
  [
    "no numQueues",
    changed("stress", (s) => delete devicesOf(s)[1]!["numQueues"]),
    "guest.devices[1].numQueues: missing; allowed: an integer from 1 to 1024",
  ],
  [
    "unknown device field",
    changed("stress", (s) => (devicesOf(s)[0]!["queues"] = 4)),
    "guest.devices[0].queues: unknown field; allowed fields: name, numQueues, queueSize, iothreads",
  ],
  [
    "IOThread index out of range",
    changed("stress", (s) => (devicesOf(s)[1]!["iothreads"] = [0, 4])),
    "guest.devices[1].iothreads[1]: 4 is not allowed; allowed: an IOThread index from 0 to 3 (guest.iothreads is 4)",
  ],
  [
    "IOThread listed twice",
    changed("stress", (s) => (devicesOf(s)[0]!["iothreads"] = [1, 2, 1])),
    "guest.devices[0].iothreads[2]: 1 is not allowed; allowed: no duplicates (the same as guest.devices[0].iothreads[0])",
  ],
  [
    "device served by no IOThread",
    changed("stress", (s) => (devicesOf(s)[0]!["iothreads"] = [])),
    "guest.devices[0].iothreads: [] is not allowed; allowed: a list of 1 to 64 distinct values, each an IOThread index from 0 to 3 (guest.iothreads is 4)",
  ],
  [
    "two devices with one name",
    changed("stress", (s) => (devicesOf(s)[1]!["name"] = "disk0")),
    `guest.devices[1].name: "disk0" is not allowed; allowed: a name no other device has (guest.devices[0] has it)`,
  ],
  ["no rounds", changed("stress", (s) => (s["rounds"] = 0)), "rounds: 0 is not allowed; allowed: an integer from 1 to 10000"],
  ["fractional rounds", changed("stress", (s) => (s["rounds"] = 2.5)), "rounds: 2.5 is not allowed; allowed: an integer from 1 to 10000"],
  [
    "inFlight.min of 0",
    changed("stress", (s) => (s["inFlight"] = { min: 0, max: 0.5 })),
    "inFlight.min: 0 is not allowed; allowed: a fraction greater than 0 and at most 1",
  ],
  [
    "inFlight.max below min",
    changed("stress", (s) => (s["inFlight"] = { min: 0.8, max: 0.5 })),
    "inFlight.max: 0.5 is not allowed; allowed: a fraction from 0.8 (inFlight.min) to 1",
  ],
  [
    "inFlight.max above 1",
    changed("stress", (s) => (s["inFlight"] = { min: 0.5, max: 1.5 })),
    "inFlight.max: 1.5 is not allowed; allowed: a fraction from 0.5 (inFlight.min) to 1",
  ],
  [
    "inFlight without max",
    changed("stress", (s) => (s["inFlight"] = { min: 0.5 })),
    "inFlight.max: missing; allowed: a fraction from 0.5 (inFlight.min) to 1",
  ],
  [
    "inFlight as one number",
    changed("stress", (s) => (s["inFlight"] = 0.5)),
    "inFlight: 0.5 is not allowed; allowed: an object {min, max} of fractions with 0 < min <= max <= 1",
  ],
  ["maxMapCount of 0", changed("stress", (s) => (s["maxMapCount"] = 0)), `maxMapCount: 0 is not allowed; allowed: ${MAP_COUNT}`],
  ["maxMapCount past INT_MAX", changed("custom", (s) => (s["maxMapCount"] = 2147483648)), `maxMapCount: 2147483648 is not allowed; allowed: ${MAP_COUNT}`],
  ["maxMapCount as a string", changed("imbalance", (s) => (s["maxMapCount"] = "65530")), `maxMapCount: "65530" is not allowed; allowed: ${MAP_COUNT}`],
  ["negative seed", changed("randread", (s) => (s["seed"] = -1)), "seed: -1 is not allowed; allowed: an integer from 0 to 4294967295"],
  ["description not a string", changed("custom", (s) => (s["description"] = 5)), "description: 5 is not allowed; allowed: a string"],
  [
    "imbalance with one thread",
    changed("imbalance", (s) => (s["threads"] = 1)),
    "threads: 1 is not allowed; allowed: an integer from 2 to 64 (the bursting thread and at least one other)",
  ],
  [
    "burstThread not below threads",
    changed("imbalance", (s) => (s["burstThread"] = 4)),
    "burstThread: 4 is not allowed; allowed: an integer from 0 to 3 (less than threads, 4)",
  ],
  ["no burst", changed("imbalance", (s) => delete s["burst"]), "burst: missing; allowed: an integer from 1 to 1048576"],
  [
    "negative poolSizeIncrease",
    changed("imbalance", (s) => (s["poolSizeIncrease"] = -64)),
    "poolSizeIncrease: -64 is not allowed; allowed: an integer from 0 to 16777216",
  ],
  ["randread threads past 64", changed("randread", (s) => (s["threads"] = 65)), "threads: 65 is not allowed; allowed: an integer from 1 to 64"],
  ["block size not whole sectors", changed("randread", (s) => (s["blockSizes"] = ["4k", "1000"])), `blockSizes[1]: "1000" is not allowed; allowed: ${BLOCK}`],
  ["block size past 16m", changed("randread", (s) => (s["blockSizes"] = ["17m"])), `blockSizes[0]: "17m" is not allowed; allowed: ${BLOCK}`],
  ["block size in gigabytes", changed("randread", (s) => (s["blockSizes"] = ["1g"])), `blockSizes[0]: "1g" is not allowed; allowed: ${BLOCK}`],
  ["block size of 0", changed("randread", (s) => (s["blockSizes"] = [0])), `blockSizes[0]: 0 is not allowed; allowed: ${BLOCK}`],
  [
    "the same block size twice",
    changed("randread", (s) => (s["blockSizes"] = ["4k", 4096])),
    "blockSizes[1]: 4096 is not allowed; allowed: no duplicates (the same as blockSizes[0])",
  ],
  ["iodepth of 0", changed("randread", (s) => (s["iodepths"] = [1, 0])), "iodepths[1]: 0 is not allowed; allowed: an integer from 1 to 1024"],
  ["iodepth past 1024", changed("randread", (s) => (s["iodepths"] = [2048])), "iodepths[0]: 2048 is not allowed; allowed: an integer from 1 to 1024"],
  ["too short a run", changed("randread", (s) => (s["durationMs"] = 5)), "durationMs: 5 is not allowed; allowed: an integer from 10 to 600000"],
  [
    "negative latency",
    changed("randread", (s) => (s["device"] = { latencyUs: -1 })),
    "device.latencyUs: -1 is not allowed; allowed: a number from 0 to 1000000",
  ],
  [
    "no bandwidth",
    changed("randread", (s) => (s["device"] = { bandwidthMBps: 0 })),
    "device.bandwidthMBps: 0 is not allowed; allowed: a number greater than 0 and at most 1000000",
  ],
  [
    "unknown device-model field",
    changed("randread", (s) => (s["device"] = { latency: 8 })),
    "device.latency: unknown field; allowed fields: latencyUs, bandwidthMBps",
  ],
  [
    "empty module",
    changed("custom", (s) => (s["module"] = " ")),
    `module: " " is not allowed; allowed: a non-empty string: the module's path, relative to the scenario file`,
  ],
  [
    "no module",
    { kind: "custom" },
    "module: missing; allowed: a non-empty string: the module's path, relative to the scenario file",
  ],
  ["options not an object", changed("custom", (s) => (s["options"] = [1])), "options: [1] is not allowed; allowed: a JSON object (passed to the workload as is)"],
];

describe("bad scenario files", () => {
  it(`has a message for each of ${BAD_INPUTS.length} bad inputs`, () => {
    expect(BAD_INPUTS.length).toBeGreaterThanOrEqual(20);
  });

  it.each(BAD_INPUTS)("%s", (_what, value, message) => {
    const err = errorOf(() => parse(value));
    expect(err.code).toBe(SCENARIO_ERROR);
    expect(err.message).toBe(`${SOURCE}: ${message}`);
    expect(err.message).not.toContain("\n");
  });

  it("cuts long values short in messages", () => {
    const err = errorOf(() => parse({ kind: "x".repeat(200) }));
    expect(err.message).toBe(`${SOURCE}: kind: "${"x".repeat(58)}… is not allowed; allowed: ${KINDS}`);
  });

  it("rejects text that is not JSON, naming the file", () => {
    const err = errorOf(() => parseScenario("{ kind: randread }", SOURCE));
    expect(err.code).toBe(SCENARIO_ERROR);
    expect(err.message).toMatch(/^scenarios\/x\.json: not valid JSON \(.+\)$/);
  });

  it("rejects a file that cannot be read", () => {
    const path = join(tmpdir(), "coropool-no-such-scenario.json");
    expect(errorOf(() => loadScenarioFile(path)).message).toBe(`${path}: cannot read the scenario file (no such file)`);
    expect(errorOf(() => loadScenarioFile(tmpdir())).message).toBe(`${tmpdir()}: cannot read the scenario file (it is a directory)`);
  });

  it("rejects a custom scenario whose module is not there, relative to the file", () => {
    const dir = mkdtempSync(join(tmpdir(), "coropool-scenario-"));
    const file = join(dir, "mine.json");
    writeFileSync(file, JSON.stringify({ kind: "custom", module: "workloads/mine.mjs" }));
    expect(errorOf(() => loadScenarioFile(file)).message).toBe(
      `${file}: module: "workloads/mine.mjs" is not allowed; allowed: the path of an existing module file, ` +
        `relative to the scenario file (nothing at ${join(dir, "workloads", "mine.mjs")})`,
    );
    mkdirSync(join(dir, "workloads"));
    writeFileSync(join(dir, "workloads", "mine.mjs"), "export default {};\n");
    expect(loadScenarioFile(file)).toMatchObject({ kind: "custom", module: "workloads/mine.mjs" });
  });
});

describe("pool sizes and queue entries", () => {
  const device = (numQueues: number, queueSize: number, iothreads: number[]) => ({ name: "d", numQueues, queueSize, iothreads });

  it("a virtio-blk device adds num_queues * queue_size / 2", () => {
    expect(devicePoolSizeIncrease({ numQueues: 64, queueSize: 256 })).toBe(8192);
    expect(devicePoolSizeIncrease({ numQueues: 1, queueSize: 4 })).toBe(2);
  });

  it("a guest adds the sum over its devices", () => {
    const guest: GuestConfig = { iothreads: 4, mainLoop: true, devices: [device(64, 256, [0]), device(4, 64, [1])] };
    expect(guestPoolSizeIncrease(guest)).toBe(8192 + 128);
  });

  it("64 queues x 256 over 4 IOThreads: 16 x 256 = 4096 entries per IOThread", () => {
    const guest: GuestConfig = { iothreads: 4, mainLoop: true, devices: [device(64, 256, [0, 1, 2, 3])] };
    expect(iothreadQueueEntries(guest)).toEqual([4096, 4096, 4096, 4096]);
  });

  it("spreads each device's queues round-robin over its own IOThreads only", () => {
    const guest: GuestConfig = {
      iothreads: 4,
      mainLoop: false,
      devices: [device(5, 128, [3, 1]), device(2, 64, [0])],
    };
    // queues 0, 2, 4 on IOThread 3; queues 1, 3 on IOThread 1; IOThread 2 serves nothing.
    expect(iothreadQueueEntries(guest)).toEqual([128, 256, 0, 384]);
  });
});

// ------------------------------------------------------------------ the published schema

const SCHEMA_FILE = join(import.meta.dirname, "..", "docs", "scenario.schema.json");
const FIXTURES = join(import.meta.dirname, "fixtures");

/** The schema file as an editor or another program reads it, compiled by an ajv of its own. */
function publishedSchema(): { schema: Json; accepts: (value: unknown) => boolean } {
  const schema = JSON.parse(readFileSync(SCHEMA_FILE, "utf8")) as Json;
  const validate = new Ajv2020({ strict: true, allErrors: true }).compile(schema);
  return { schema, accepts: (value) => validate(value) };
}

/** Scenario files the tests run (their workload modules may be bad on purpose; the files are valid). */
const VALID_FIXTURES = ["scenarios", "bad", "reliability"].flatMap((dir) =>
  readdirSync(join(FIXTURES, dir))
    .filter((name) => name.endsWith(".json"))
    .map((name) => `${dir}/${name}`),
);

/** Refused by the rules a JSON Schema cannot express: one field against another, a size written as text. */
const BEYOND_THE_SCHEMA = [
  "IOThread index out of range",
  "two devices with one name",
  "inFlight.max below min",
  "burstThread not below threads",
  "block size not whole sectors",
  "block size past 16m",
  "the same block size twice",
];

describe("docs/scenario.schema.json", () => {
  it("is the schema the validator enforces (regenerate: npx vitest run test/scenarios.test.ts -u)", async () => {
    await expect(`${JSON.stringify(scenarioSchema(), null, 2)}\n`).toMatchFileSnapshot(SCHEMA_FILE);
  });

  it("describes every field, and states every fixed default", () => {
    const undescribed: string[] = [];
    const walk = (node: Json, path: string): void => {
      if (node === null || typeof node !== "object" || Array.isArray(node)) return;
      const properties = (node["properties"] ?? {}) as Json;
      for (const [name, field] of Object.entries(properties)) {
        if (typeof (field as Json)["description"] !== "string") undescribed.push(`${path}.${name}`);
        walk(field as Json, `${path}.${name}`);
      }
      if (node["items"] !== undefined) walk(node["items"] as Json, `${path}[]`);
    };
    const { schema } = publishedSchema();
    walk(schema, "");
    for (const kind of Object.values(KIND_OF)) walk(kindSchema(schema, kind), kind);
    expect(undescribed).toEqual([]);
    expect(nodeAt(schema, "randread", ["iodepths"])["default"]).toEqual([1, 8, 16, 32, 64]);
    expect(nodeAt(schema, "vma-exhaustion", ["inFlight"])["default"]).toEqual({ min: 0.5, max: 0.75 });
    expect(nodeAt(schema, "custom", ["maxMapCount"])["default"]).toBeNull();
  });

  it.each(SHIPPED)("scenarios/%s names it with $schema and follows it", (file) => {
    const value = JSON.parse(readFileSync(join(SCENARIOS, file), "utf8")) as Json;
    expect(resolve(SCENARIOS, value["$schema"] as string)).toBe(SCHEMA_FILE);
    expect(publishedSchema().accepts(value)).toBe(true);
  });

  it.each(VALID_FIXTURES)("test/fixtures/%s follows it", (name) => {
    const text = readFileSync(join(FIXTURES, name), "utf8");
    // The checked scenario is the file's: its kind and, where it gives them, its threads.
    const { kind, threads } = JSON.parse(text) as Json;
    expect(parseScenario(text, name)).toMatchObject(threads === undefined ? { kind } : { kind, threads });
    expect(publishedSchema().accepts(JSON.parse(text))).toBe(true);
  });

  it.each(BAD_INPUTS.filter(([what]) => !BEYOND_THE_SCHEMA.includes(what)))("refuses what the validator refuses: %s", (_what, value) => {
    expect(publishedSchema().accepts(value)).toBe(false);
  });

  it.each(BAD_INPUTS.filter(([what]) => BEYOND_THE_SCHEMA.includes(what)))("leaves to the kind's own checks: %s", (_what, value) => {
    expect(publishedSchema().accepts(value)).toBe(true);
    expect(() => parse(value)).toThrow(InputError);
  });

  it("$schema is allowed in every kind, not part of the scenario, and must be a string", () => {
    for (const base of Object.values(MINIMAL)) {
      const withSchema = { $schema: "../docs/scenario.schema.json", ...base };
      expect(parse(withSchema)).toEqual(parse(base));
    }
    expect(errorOf(() => parse({ $schema: 5, ...MINIMAL.randread })).message).toBe(
      `${SOURCE}: $schema: 5 is not allowed; allowed: a string: the path or URL of the file's JSON Schema`,
    );
  });
});

/**
 * Every numeric field's bounds, as the published schema states them, against
 * the validator: each bound accepted, one past it refused with the exact
 * message. `context` sets the fields a bound depends on so the schema's bound
 * is the one that holds (64 IOThreads for an IOThread index).
 */
interface Bounds {
  kind: keyof typeof MINIMAL;
  path: (string | number)[];
  allowed?: string;
  context?: (s: Json) => void;
}

const BOUNDS: Bounds[] = [
  { kind: "stress", path: ["guest", "iothreads"] },
  { kind: "stress", path: ["guest", "devices", 0, "numQueues"] },
  {
    kind: "stress",
    path: ["guest", "devices", 0, "iothreads", 0],
    allowed: "an IOThread index from 0 to 63 (guest.iothreads is 64)",
    context: (s) => (guestOf(s)["iothreads"] = 64),
  },
  { kind: "stress", path: ["rounds"] },
  { kind: "stress", path: ["inFlight", "min"], allowed: "a fraction greater than 0 and at most 1", context: (s) => (s["inFlight"] = { min: 0.5, max: 1 }) },
  { kind: "stress", path: ["inFlight", "max"], allowed: "a fraction from 1e-9 (inFlight.min) to 1", context: (s) => (s["inFlight"] = { min: 1e-9, max: 1 }) },
  { kind: "stress", path: ["mainLoopInFlight"] },
  { kind: "stress", path: ["maxMapCount"], allowed: MAP_COUNT },
  { kind: "stress", path: ["seed"] },
  { kind: "imbalance", path: ["threads"], allowed: "an integer from 2 to 64 (the bursting thread and at least one other)" },
  { kind: "imbalance", path: ["burstThread"], allowed: "an integer from 0 to 63 (less than threads, 64)", context: (s) => (s["threads"] = 64) },
  { kind: "imbalance", path: ["burst"] },
  { kind: "imbalance", path: ["rounds"] },
  { kind: "imbalance", path: ["inFlight"] },
  { kind: "imbalance", path: ["poolSizeIncrease"] },
  { kind: "imbalance", path: ["maxMapCount"], allowed: MAP_COUNT },
  { kind: "imbalance", path: ["seed"] },
  { kind: "randread", path: ["threads"] },
  { kind: "randread", path: ["blockSizes", 0], allowed: BLOCK },
  { kind: "randread", path: ["iodepths", 0] },
  { kind: "randread", path: ["durationMs"] },
  { kind: "randread", path: ["device", "latencyUs"], allowed: "a number from 0 to 1000000" },
  { kind: "randread", path: ["device", "bandwidthMBps"], allowed: "a number greater than 0 and at most 1000000" },
  { kind: "randread", path: ["seed"] },
  { kind: "custom", path: ["threads"] },
  { kind: "custom", path: ["maxMapCount"], allowed: MAP_COUNT },
  { kind: "custom", path: ["seed"] },
  { kind: "burstIdle", path: ["threads"], allowed: "an integer from 2 to 64 (bursting threads and at least one other)" },
  {
    kind: "burstIdle",
    path: ["burstThreads"],
    allowed: "an integer from 1 to 63 (fewer than threads, 64: at least one thread takes the later load)",
    context: (s) => (s["threads"] = 64),
  },
  { kind: "burstIdle", path: ["burst"] },
  { kind: "burstIdle", path: ["bursts"] },
  { kind: "burstIdle", path: ["quietMs"] },
  { kind: "burstIdle", path: ["rounds"] },
  { kind: "burstIdle", path: ["inFlight"] },
  { kind: "burstIdle", path: ["poolSizeIncrease"] },
  { kind: "burstIdle", path: ["maxMapCount"], allowed: MAP_COUNT },
  { kind: "burstIdle", path: ["seed"] },
];

const KIND_OF: Record<keyof typeof MINIMAL, string> = {
  stress: "vma-exhaustion",
  imbalance: "imbalance",
  randread: "randread",
  custom: "custom",
  burstIdle: "burst-idle",
};

/** A kind's part of the schema: the `then` of the branch `if` its kind. */
function kindSchema(schema: Json, kind: string): Json {
  const branch = (schema["allOf"] as Json[]).find((b) => (b["if"] as { properties: { kind: { const: string } } }).properties.kind.const === kind);
  return branch!["then"] as Json;
}

/** The schema of the value at `path` in a kind's file, through properties and items. */
function nodeAt(schema: Json, kind: string, path: (string | number)[]): Json {
  let node = kindSchema(schema, kind);
  for (const segment of path) node = (typeof segment === "number" ? node["items"] : (node["properties"] as Json)[segment]) as Json;
  return node;
}

/** The numeric schema at `path` (the numeric branch of an anyOf). */
function schemaAt(schema: Json, kind: string, path: (string | number)[]): Json {
  const node = nodeAt(schema, kind, path);
  return ((node["anyOf"] ?? [node]) as Json[]).find((n) => n["type"] === "integer" || n["type"] === "number")!;
}

/** Every field with numeric bounds in a kind's schema, as paths (items as index 0). */
function numericPaths(node: Json, path: (string | number)[] = []): string[] {
  if (node === null || typeof node !== "object") return [];
  const numeric = ((node["anyOf"] ?? [node]) as Json[]).some((n) => "maximum" in n);
  const here = numeric ? [JSON.stringify(path)] : [];
  const fields = Object.entries((node["properties"] ?? {}) as Json).flatMap(([name, child]) => numericPaths(child as Json, [...path, name]));
  const items = node["items"] ? numericPaths(node["items"] as Json, [...path, 0]) : [];
  return [...here, ...fields, ...items];
}

function withValue(kind: keyof typeof MINIMAL, bounds: Bounds, v: number): Json {
  return changed(kind, (s) => {
    bounds.context?.(s);
    let parent = s as Record<string | number, unknown>;
    for (const [i, segment] of bounds.path.slice(0, -1).entries()) {
      parent[segment] ??= typeof bounds.path[i + 1] === "number" ? [] : {};
      parent = parent[segment] as Record<string | number, unknown>;
    }
    const last = bounds.path[bounds.path.length - 1]!;
    if (Array.isArray(parent)) parent.splice(0, parent.length, v);
    else parent[last] = v;
  });
}

describe("the schema's bounds are the validator's", () => {
  const { schema, accepts } = publishedSchema();

  it("the table names every numeric field of every kind", () => {
    const inSchema = (schema["allOf"] as Json[]).flatMap((b) =>
      numericPaths(b["then"] as Json).map((p) => `${JSON.stringify((b["if"] as { properties: { kind: { const: string } } }).properties.kind.const)} ${p}`),
    );
    const inTable = BOUNDS.map((b) => `${JSON.stringify(KIND_OF[b.kind])} ${JSON.stringify(b.path)}`);
    expect([...inTable].sort()).toEqual([...inSchema].sort());
  });

  it.each(BOUNDS.map((b) => [`${b.kind} ${b.path.join(".")}`, b] as const))("%s", (_name, bounds) => {
    const node = schemaAt(schema, KIND_OF[bounds.kind], bounds.path);
    const max = node["maximum"] as number;
    const exclusive = "exclusiveMinimum" in node;
    const min = (exclusive ? node["exclusiveMinimum"] : node["minimum"]) as number;
    const allowed = bounds.allowed ?? `an integer from ${min} to ${max}`;
    const step = node["type"] === "integer" ? ((node["multipleOf"] as number | undefined) ?? 1) : 1e-9;
    const lowest = exclusive ? min + step : min;
    const accepted = [lowest, max];
    const refused = [exclusive ? min : min - 1, max + 1];
    const where = bounds.path.reduce<string>((text, s) => (typeof s === "number" ? `${text}[${s}]` : text === "" ? s : `${text}.${s}`), "");
    for (const v of accepted) {
      const value = withValue(bounds.kind, bounds, v);
      expect(accepts(value), `${where} = ${v}`).toBe(true);
      expect(() => parse(value), `${where} = ${v}`).not.toThrow();
    }
    for (const v of refused) {
      const value = withValue(bounds.kind, bounds, v);
      expect(accepts(value), `${where} = ${v}`).toBe(false);
      expect(errorOf(() => parse(value)).message).toBe(`${SOURCE}: ${where}: ${v} is not allowed; allowed: ${allowed}`);
    }
  });

  it("queueSize: the powers of two from 4 to 1024 (QEMU refuses 2), listed in the schema", () => {
    expect(nodeAt(schema, "vma-exhaustion", ["guest", "devices", 0, "queueSize"])["enum"]).toEqual([4, 8, 16, 32, 64, 128, 256, 512, 1024]);
    for (const size of [4, 1024]) expect(accepts(changed("stress", (s) => (devicesOf(s)[0]!["queueSize"] = size)))).toBe(true);
    for (const size of [1, 2, 3, 2048]) {
      const value = changed("stress", (s) => (devicesOf(s)[0]!["queueSize"] = size));
      expect(accepts(value)).toBe(false);
      expect(errorOf(() => parse(value)).message).toBe(`${SOURCE}: guest.devices[0].queueSize: ${size} is not allowed; allowed: a power of two from 4 to 1024`);
    }
  });
});
