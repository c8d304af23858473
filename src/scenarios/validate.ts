/**
 * Scenario files: JSON text in, a checked Scenario with every default filled
 * out. Nothing runs on a file that is not entirely valid, and every rejection
 * is one line a user can act on:
 *
 *   <file>: <field path>: <value> is not allowed; allowed: <what is>
 *   <file>: <field path>: missing; allowed: <what is>
 *   <file>: <field path>: unknown field; allowed fields: <list>
 *
 * Defaults for optional fields (also in scenarios/README.md):
 *   every kind      description "", seed 1
 *   vma-exhaustion  rounds 6, inFlight {min 0.5, max 0.75}, mainLoopInFlight 64,
 *                   maxMapCount null (the host's vm.max_map_count);
 *                   guest.mainLoop true; device name "disk<i>", queueSize 256,
 *                   iothreads all of the guest's IOThreads
 *   imbalance       burstThread 0, rounds 10, poolSizeIncrease 0, maxMapCount null
 *   randread        threads 1, blockSizes ["4k","128k"], iodepths [1,8,16,32,64],
 *                   durationMs 1000, device {latencyUs 8, bandwidthMBps 2300}
 *   custom          threads 1, options {}, maxMapCount null
 */
import { parseByteSize } from "../byte-size.js";
import { DEFAULT_DEVICE_MODEL } from "./randread/device.js";
import { readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { InputError } from "../errors.js";
import { escapeControls, shortened } from "../message-text.js";
import {
  SCENARIO_KINDS,
  type CustomScenario,
  type DeviceConfig,
  type ImbalanceScenario,
  type RandreadScenario,
  type Scenario,
  type ScenarioKind,
  type StressScenario,
} from "./types.js";

export const SCENARIO_ERROR = "ERR_SCENARIO";

// ---------------------------------------------------------------- limits

/** Worker threads (IOThreads) one scenario may ask for; the main loop is one more. */
export const MAX_THREADS = 64;
/** imbalance needs the bursting thread and at least one other. */
export const MIN_IMBALANCE_THREADS = 2;
/** virtio's VIRTIO_QUEUE_MAX: the most virtqueues one device can have. */
export const MAX_NUM_QUEUES = 1024;
/** virtio's VIRTQUEUE_MAX_SIZE; QEMU also insists on a power of two, at least 2. */
export const MIN_QUEUE_SIZE = 2;
export const MAX_QUEUE_SIZE = 1024;
/** QEMU's virtio-blk queue-size default. */
export const DEFAULT_QUEUE_SIZE = 256;
export const MAX_DEVICES = 32;
export const MAX_ROUNDS = 10_000;
export const MIN_DURATION_MS = 10;
export const MAX_DURATION_MS = 600_000;
export const MAX_IODEPTH = 1024;
/**
 * Coroutines one thread may be told to have in flight at once. Far above any
 * real limit's half (65530 / 2), low enough that a typo cannot ask for
 * billions of coroutines.
 */
export const MAX_COROUTINES_PER_THREAD = 1 << 20;
/** The most a guest's devices can add to the pool size (MAX_DEVICES of the largest device). */
export const MAX_POOL_SIZE_INCREASE = (MAX_DEVICES * MAX_NUM_QUEUES * MAX_QUEUE_SIZE) / 2;
/** vm.max_map_count is a C int. */
export const MAX_MAX_MAP_COUNT = 0x7fffffff;
/** Seeds feed a 32-bit PRNG. */
export const MAX_SEED = 0xffffffff;
/** Block sizes are whole sectors, as for O_DIRECT I/O. */
export const SECTOR_SIZE = 512;
const KIB = 1024;
const MIB = 1024 * KIB;
export const MAX_BLOCK_SIZE = 16 * MIB;
/** Device model sanity bounds: one second of latency, 1 TB/s. */
export const MAX_LATENCY_US = 1_000_000;
export const MAX_BANDWIDTH_MBPS = 1_000_000;
/** Longer values are cut in messages, so an error stays one readable line. */
const MAX_SHOWN_CHARS = 60;

// ---------------------------------------------------------------- defaults

export const DEFAULT_DESCRIPTION = "";
export const DEFAULT_SEED = 1;
/** A few rounds: enough for legacy's per-thread pools to fill up and strand stacks. */
export const DEFAULT_STRESS_ROUNDS = 6;
export const DEFAULT_STRESS_IN_FLIGHT = { min: 0.5, max: 0.75 } as const;
export const DEFAULT_MAIN_LOOP_IN_FLIGHT = 64;
export const DEFAULT_IMBALANCE_ROUNDS = 10;
export const DEFAULT_RANDREAD_BLOCK_SIZES = [4 * KIB, 128 * KIB] as const;
/** The seed's fio table: iodepths 1 to 64. */
export const DEFAULT_RANDREAD_IODEPTHS = [1, 8, 16, 32, 64] as const;
export const DEFAULT_RANDREAD_DURATION_MS = 1000;
/** The device model's defaults are derived (from the seed's fio table) where the model lives. */
export { DEFAULT_DEVICE_MODEL };
export const DEFAULT_THREADS = 1;

// ---------------------------------------------------------------- public API

/** Checks a scenario file's text; `source` names it in messages. */
export function parseScenario(text: string, source: string): Scenario {
  return checkScenario(parseJson(text, source), source);
}

/**
 * Reads and checks a scenario file. A custom scenario's module must exist
 * (relative to the file), so a typo is bad input now rather than a failed
 * import on every worker later.
 */
export function loadScenarioFile(path: string): Scenario {
  const scenario = parseScenario(readScenarioText(path), path);
  if (scenario.kind === "custom") checkModuleExists(scenario, path);
  return scenario;
}

// ---------------------------------------------------------------- file and JSON

function readScenarioText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new InputError(SCENARIO_ERROR, `${path}: cannot read the scenario file (${fsReason(err)})`);
  }
}

function fsReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file";
  if (code === "EISDIR") return "it is a directory";
  if (code === "EACCES") return "permission denied";
  return err instanceof Error ? err.message : String(err);
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new InputError(SCENARIO_ERROR, `${source}: not valid JSON (${jsonErrorReason(reason, text)})`);
  }
}

/**
 * V8's reason, made one line: it may quote the file's text (newlines and
 * all: `Unexpected token 'x', "{\n..." is not valid JSON`), which is cut off,
 * and it gives places as string offsets, which become line and column.
 */
function jsonErrorReason(reason: string, text: string): string {
  const withoutQuote = reason.replace(/, ".*" is not valid JSON$/s, "");
  const placed = withoutQuote.replace(/(?: in JSON)? at position (\d+)(?: \(line \d+ column \d+\))?$/, (_, offset: string) => {
    const before = text.slice(0, Number(offset));
    const line = before.split("\n").length;
    return ` at line ${line}, column ${before.length - before.lastIndexOf("\n")}`;
  });
  return shortened(escapeControls(placed.split("\n")[0]!), MAX_SHOWN_CHARS * 2);
}

function checkModuleExists(scenario: CustomScenario, path: string): void {
  const modulePath = resolve(dirname(path), scenario.module);
  if (!isFile(modulePath)) {
    throw new FieldPath(path, "module").bad(
      scenario.module,
      `the path of an existing module file, relative to the scenario file (nothing at ${modulePath})`,
    );
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- where and why

/** A place in a scenario file (the file, a field path in it), and the errors about it. */
class FieldPath {
  constructor(
    readonly source: string,
    readonly path: string,
  ) {}

  /** A field by name; a name that is no plain identifier (an unknown field's, say) is shown quoted: a["x y"]. */
  child(name: string): FieldPath {
    if (!PLAIN_FIELD_NAME.test(name)) return new FieldPath(this.source, `${this.path}[${show(name)}]`);
    return new FieldPath(this.source, this.path === "" ? name : `${this.path}.${name}`);
  }

  item(index: number): FieldPath {
    return new FieldPath(this.source, `${this.path}[${index}]`);
  }

  bad(value: unknown, allowed: string): InputError {
    return this.error(`${show(value)} is not allowed; allowed: ${allowed}`);
  }

  missing(allowed: string): InputError {
    return this.error(`missing; allowed: ${allowed}`);
  }

  error(what: string): InputError {
    const where = this.path === "" ? this.source : `${this.source}: ${this.path}`;
    return new InputError(SCENARIO_ERROR, `${where}: ${what}`);
  }
}

const PLAIN_FIELD_NAME = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** A value as JSON, cut short; JSON escapes C0 controls but not DEL, C1 or U+2028/2029. */
function show(value: unknown): string {
  const shown = typeof value === "number" ? String(value) : (JSON.stringify(value) ?? String(value));
  return shortened(escapeControls(shown), MAX_SHOWN_CHARS);
}

// ---------------------------------------------------------------- rules

/** One field's check, and what it allows in words (for messages and the README). */
interface Rule<T> {
  allowed: string;
  check(value: unknown, at: FieldPath): T;
}

/** A rule whose check gets its own `allowed` text, to put in its rejections. */
function rule<T>(allowed: string, check: (value: unknown, at: FieldPath, allowed: string) => T): Rule<T> {
  return { allowed, check: (value, at) => check(value, at, allowed) };
}

function integer(min: number, max: number, allowed = `an integer from ${min} to ${max}`): Rule<number> {
  return rule(allowed, (value, at) => {
    if (typeof value === "number" && Number.isInteger(value) && value >= min && value <= max) return value;
    throw at.bad(value, allowed);
  });
}

/** A number in [min, max], or in (min, max] when `minExclusive`. */
function numberIn(min: number, max: number, allowed: string, minExclusive = false): Rule<number> {
  return rule(allowed, (value, at) => {
    if (typeof value === "number" && (minExclusive ? value > min : value >= min) && value <= max) return value;
    throw at.bad(value, allowed);
  });
}

function text(allowed: string, nonEmpty: boolean): Rule<string> {
  return rule(allowed, (value, at) => {
    if (typeof value === "string" && (!nonEmpty || value.trim() !== "")) return value;
    throw at.bad(value, allowed);
  });
}

const BOOLEAN = rule("true or false", (value, at, allowed) => {
  if (typeof value === "boolean") return value;
  throw at.bad(value, allowed);
});

const DESCRIPTION = text("a string", false);
const SEED = integer(0, MAX_SEED);
const ROUNDS = integer(1, MAX_ROUNDS);
const THREADS = integer(1, MAX_THREADS);
const COROUTINES = integer(1, MAX_COROUTINES_PER_THREAD);

const MAX_MAP_COUNT = rule<number | null>(
  `null (the host's vm.max_map_count) or an integer from 1 to ${MAX_MAX_MAP_COUNT}`,
  (value, at, allowed) => (value === null ? null : integer(1, MAX_MAX_MAP_COUNT, allowed).check(value, at)),
);

const QUEUE_SIZE = rule(`a power of two from ${MIN_QUEUE_SIZE} to ${MAX_QUEUE_SIZE}`, (value, at, allowed) => {
  const size = integer(MIN_QUEUE_SIZE, MAX_QUEUE_SIZE, allowed).check(value, at);
  if (!isPowerOfTwo(size)) throw at.bad(value, allowed);
  return size;
});

function isPowerOfTwo(n: number): boolean {
  return (n & (n - 1)) === 0;
}

/** "4k", "128K", "1m", "4096" or 4096: bytes, a whole number of sectors. */
const BLOCK_SIZE = rule(
  `a multiple of ${SECTOR_SIZE} bytes from ${SECTOR_SIZE} to 16m, ` +
    `as an integer of bytes or a string like "4k", "128k", "1m"`,
  (value, at, allowed) => {
    const bytes = blockSizeBytes(value);
    if (bytes !== null && bytes % SECTOR_SIZE === 0 && bytes <= MAX_BLOCK_SIZE) return bytes;
    throw at.bad(value, allowed);
  },
);

function blockSizeBytes(value: unknown): number | null {
  if (typeof value === "number") return Number.isInteger(value) && value > 0 ? value : null;
  return typeof value === "string" ? parseByteSize(value) : null;
}

/** A non-empty list of at most `maxItems`, each item checked, no value twice. */
function distinctList<T>(item: Rule<T>, maxItems: number): Rule<T[]> {
  return rule(`a list of 1 to ${maxItems} distinct values, each ${item.allowed}`, (value, at, allowed) => {
    if (!Array.isArray(value) || value.length === 0 || value.length > maxItems) throw at.bad(value, allowed);
    const firstIndex = new Map<T, number>();
    return value.map((raw, index) => {
      const checked = item.check(raw, at.item(index));
      const first = firstIndex.get(checked);
      if (first !== undefined) throw at.item(index).bad(raw, `no duplicates (the same as ${at.item(first).path})`);
      firstIndex.set(checked, index);
      return checked;
    });
  });
}

/** Lists a user writes out by hand (block sizes, iodepths): a bound only against typos. */
const MAX_LIST_ITEMS = 64;

// ---------------------------------------------------------------- objects

/** A JSON object's fields; any field not in `known` is rejected up front. */
class Fields {
  private constructor(
    readonly at: FieldPath,
    private readonly values: Record<string, unknown>,
  ) {}

  static open(value: unknown, at: FieldPath, known: readonly string[], allowed: string, context = ""): Fields {
    if (!isPlainObject(value)) throw at.bad(value, allowed);
    for (const name of Object.keys(value)) {
      if (!known.includes(name)) {
        throw at.child(name).error(`unknown field; allowed fields${context}: ${known.join(", ")}`);
      }
    }
    return new Fields(at, value);
  }

  required<T>(name: string, rule: Rule<T>): T {
    if (!Object.hasOwn(this.values, name)) throw this.at.child(name).missing(rule.allowed);
    return rule.check(this.values[name], this.at.child(name));
  }

  optional<T>(name: string, rule: Rule<T>, fallback: T): T {
    return Object.hasOwn(this.values, name) ? rule.check(this.values[name], this.at.child(name)) : fallback;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A rule for a nested object: its known fields, and how to read them. */
function object<T>(allowed: string, known: readonly string[], read: (fields: Fields) => T): Rule<T> {
  return rule(allowed, (value, at) => read(Fields.open(value, at, known, allowed)));
}

// ---------------------------------------------------------------- scenarios

const KIND = rule(`one of ${SCENARIO_KINDS.map((k) => JSON.stringify(k)).join(", ")}`, (value, at, allowed) => {
  if (SCENARIO_KINDS.includes(value as ScenarioKind)) return value as ScenarioKind;
  throw at.bad(value, allowed);
});

interface KindSpec {
  fields: readonly string[];
  read(fields: Fields): Scenario;
}

/** The fields of each kind, in the order the README documents them. */
const KINDS: Record<ScenarioKind, KindSpec> = {
  "vma-exhaustion": {
    fields: ["kind", "description", "guest", "rounds", "inFlight", "mainLoopInFlight", "maxMapCount", "seed"],
    read: readStress,
  },
  imbalance: {
    fields: ["kind", "description", "threads", "burstThread", "burst", "rounds", "inFlight", "poolSizeIncrease", "maxMapCount", "seed"],
    read: readImbalance,
  },
  randread: {
    fields: ["kind", "description", "threads", "blockSizes", "iodepths", "durationMs", "device", "seed"],
    read: readRandread,
  },
  custom: {
    fields: ["kind", "description", "module", "threads", "options", "maxMapCount", "seed"],
    read: readCustom,
  },
};

/** `kind` first: which other fields are known depends on it. */
function checkScenario(value: unknown, source: string): Scenario {
  const root = new FieldPath(source, "");
  const allowed = `a JSON object with a "kind" field`;
  if (!isPlainObject(value)) throw root.bad(value, allowed);
  if (!Object.hasOwn(value, "kind")) throw root.child("kind").missing(KIND.allowed);
  const kind = KIND.check(value["kind"], root.child("kind"));
  const spec = KINDS[kind];
  return spec.read(Fields.open(value, root, spec.fields, allowed, ` for kind "${kind}"`));
}

function readStress(f: Fields): StressScenario {
  return {
    kind: "vma-exhaustion",
    description: f.optional("description", DESCRIPTION, DEFAULT_DESCRIPTION),
    guest: f.required("guest", GUEST),
    rounds: f.optional("rounds", ROUNDS, DEFAULT_STRESS_ROUNDS),
    inFlight: f.optional("inFlight", IN_FLIGHT_FRACTIONS, { ...DEFAULT_STRESS_IN_FLIGHT }),
    mainLoopInFlight: f.optional("mainLoopInFlight", integer(0, MAX_COROUTINES_PER_THREAD), DEFAULT_MAIN_LOOP_IN_FLIGHT),
    maxMapCount: f.optional("maxMapCount", MAX_MAP_COUNT, null),
    seed: f.optional("seed", SEED, DEFAULT_SEED),
  };
}

const GUEST = object("an object with iothreads, mainLoop and devices", ["iothreads", "mainLoop", "devices"], (f) => {
  const iothreads = f.required("iothreads", THREADS);
  return {
    iothreads,
    mainLoop: f.optional("mainLoop", BOOLEAN, true),
    devices: f.required("devices", devicesOf(iothreads)),
  };
});

/** Devices of a guest with `iothreads` IOThreads: their indices are checked against it. */
function devicesOf(iothreads: number): Rule<DeviceConfig[]> {
  return rule(`a list of 1 to ${MAX_DEVICES} devices`, (value, at, allowed) => {
    if (!Array.isArray(value) || value.length === 0 || value.length > MAX_DEVICES) throw at.bad(value, allowed);
    const devices = value.map((raw, index) => deviceOf(iothreads, index).check(raw, at.item(index)));
    checkDistinctNames(devices, (index) => isPlainObject(value[index]) && Object.hasOwn(value[index], "name"), at);
    return devices;
  });
}

function deviceOf(iothreads: number, index: number): Rule<DeviceConfig> {
  const last = iothreads - 1;
  const iothreadIndex = integer(0, last, `an IOThread index from 0 to ${last} (guest.iothreads is ${iothreads})`);
  return object(
    "an object with name, numQueues, queueSize and iothreads",
    ["name", "numQueues", "queueSize", "iothreads"],
    (f) => ({
      name: f.optional("name", text("a non-empty string", true), `disk${index}`),
      numQueues: f.required("numQueues", integer(1, MAX_NUM_QUEUES)),
      queueSize: f.optional("queueSize", QUEUE_SIZE, DEFAULT_QUEUE_SIZE),
      iothreads: f.optional("iothreads", distinctList(iothreadIndex, MAX_THREADS), allIothreads(iothreads)),
    }),
  );
}

function allIothreads(iothreads: number): number[] {
  return Array.from({ length: iothreads }, (_, i) => i);
}

/** Reports name the device, so two with one name would be ambiguous. */
function checkDistinctNames(devices: DeviceConfig[], named: (index: number) => boolean, at: FieldPath): void {
  devices.forEach((device, index) => {
    const first = devices.findIndex((other) => other.name === device.name);
    if (first === index) return;
    // Blame a name the file wrote: defaults ("disk<i>") never clash with each
    // other, so when the later device has its default the earlier one wrote it.
    if (named(index)) {
      throw at.item(index).child("name").bad(device.name, `a name no other device has (${at.item(first).path} has it)`);
    }
    throw at.item(first).child("name").bad(device.name, `a name no other device has (${at.item(index).path} has it by default)`);
  });
}

const IN_FLIGHT_FRACTIONS = object("an object {min, max} of fractions with 0 < min <= max <= 1", ["min", "max"], (f) => {
  const min = f.required("min", numberIn(0, 1, "a fraction greater than 0 and at most 1", true));
  const max = f.required("max", numberIn(min, 1, `a fraction from ${min} (inFlight.min) to 1`));
  return { min, max };
});

function readImbalance(f: Fields): ImbalanceScenario {
  const description = f.optional("description", DESCRIPTION, DEFAULT_DESCRIPTION);
  const threads = f.required("threads", IMBALANCE_THREADS);
  return {
    kind: "imbalance",
    description,
    threads,
    burstThread: f.optional("burstThread", integer(0, threads - 1, `an integer from 0 to ${threads - 1} (less than threads, ${threads})`), 0),
    burst: f.required("burst", COROUTINES),
    rounds: f.optional("rounds", ROUNDS, DEFAULT_IMBALANCE_ROUNDS),
    inFlight: f.required("inFlight", COROUTINES),
    poolSizeIncrease: f.optional("poolSizeIncrease", integer(0, MAX_POOL_SIZE_INCREASE), 0),
    maxMapCount: f.optional("maxMapCount", MAX_MAP_COUNT, null),
    seed: f.optional("seed", SEED, DEFAULT_SEED),
  };
}

const IMBALANCE_THREADS = integer(
  MIN_IMBALANCE_THREADS,
  MAX_THREADS,
  `an integer from ${MIN_IMBALANCE_THREADS} to ${MAX_THREADS} (the bursting thread and at least one other)`,
);

function readRandread(f: Fields): RandreadScenario {
  return {
    kind: "randread",
    description: f.optional("description", DESCRIPTION, DEFAULT_DESCRIPTION),
    threads: f.optional("threads", THREADS, DEFAULT_THREADS),
    blockSizes: f.optional("blockSizes", distinctList(BLOCK_SIZE, MAX_LIST_ITEMS), [...DEFAULT_RANDREAD_BLOCK_SIZES]),
    iodepths: f.optional("iodepths", distinctList(integer(1, MAX_IODEPTH), MAX_LIST_ITEMS), [...DEFAULT_RANDREAD_IODEPTHS]),
    durationMs: f.optional("durationMs", integer(MIN_DURATION_MS, MAX_DURATION_MS), DEFAULT_RANDREAD_DURATION_MS),
    device: f.optional("device", DEVICE_MODEL, { ...DEFAULT_DEVICE_MODEL }),
    seed: f.optional("seed", SEED, DEFAULT_SEED),
  };
}

/** Each parameter has its own default: a file may set just the one it varies. */
const DEVICE_MODEL = object("an object with latencyUs and bandwidthMBps", ["latencyUs", "bandwidthMBps"], (f) => ({
  latencyUs: f.optional("latencyUs", numberIn(0, MAX_LATENCY_US, `a number from 0 to ${MAX_LATENCY_US}`), DEFAULT_DEVICE_MODEL.latencyUs),
  bandwidthMBps: f.optional(
    "bandwidthMBps",
    numberIn(0, MAX_BANDWIDTH_MBPS, `a number greater than 0 and at most ${MAX_BANDWIDTH_MBPS}`, true),
    DEFAULT_DEVICE_MODEL.bandwidthMBps,
  ),
}));

const OPTIONS = rule("a JSON object (passed to the workload as is)", (value, at, allowed) => {
  if (isPlainObject(value)) return value;
  throw at.bad(value, allowed);
});

function readCustom(f: Fields): CustomScenario {
  return {
    kind: "custom",
    description: f.optional("description", DESCRIPTION, DEFAULT_DESCRIPTION),
    module: f.required("module", text("a non-empty string: the module's path, relative to the scenario file", true)),
    threads: f.optional("threads", THREADS, DEFAULT_THREADS),
    options: f.optional("options", OPTIONS, {}),
    maxMapCount: f.optional("maxMapCount", MAX_MAP_COUNT, null),
    seed: f.optional("seed", SEED, DEFAULT_SEED),
  };
}
