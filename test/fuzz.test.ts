// Issue 7: fuzzing the parsers of everything a user hands coropool. Each one
// either accepts its input, and then what it returns is within the documented
// limits, or refuses it with an InputError (its stable code) whose message is
// one line that says where the problem is; never any other exception.
//   - the trace parser (src/replay/trace.ts): arbitrary text, word soup, and
//     valid traces with random mutations;
//   - scenario validation (src/scenarios/validate.ts): arbitrary JSON, and the
//     shipped scenarios/*.json with fields removed, replaced and added;
//   - the CLI's flag parsers (src/cli/args.ts): arbitrary strings and argv.
// The limits are checked against the numbers documented in scenarios/README.md
// and docs/design.md#the-trace-format, written out here, not imported from the
// code under test.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseCommandArgs } from "../src/cli/args.js";
import { flagValue, parserSpec } from "../src/cli/flag-table.js";
import { RUNTIME_FLAGS } from "../src/cli/runtime-flags.js";
import type { OptionName } from "../src/options/catalogue.js";
import { InputError } from "../src/errors.js";
import { parseTrace, type Trace } from "../src/replay/trace.js";
import { parseScenario } from "../src/scenarios/validate.js";
import type { Scenario } from "../src/scenarios/types.js";

const U32_MAX = 0xffffffff;
/** One line: no newline, no other control character, no Unicode line separator. */
const NOT_ONE_LINE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** Runs `parse`; returns its result, or the InputError it threw. Any other exception fails the property. */
function outcome<T>(parse: () => T, code: string): { ok: T } | { error: InputError } {
  try {
    return { ok: parse() };
  } catch (err) {
    if (!(err instanceof InputError)) throw new Error(`not an InputError: ${String(err)}`, { cause: err });
    expect(err.code).toBe(code);
    expect(err.message).not.toMatch(NOT_ONE_LINE);
    return { error: err };
  }
}

// ------------------------------------------------------------------ traces

const TRACE_SOURCE = "fuzz.trace";

/** The words of a trace line, as the format defines them: '#' to the end of the line is a comment. */
function wordsOf(line: string): string[] {
  const hash = line.indexOf("#");
  return (hash === -1 ? line : line.slice(0, hash)).split(/\s+/).filter((w) => w !== "");
}

/** Lines a file has: a final newline ends the last line, it does not start another. */
function lineCount(text: string): number {
  const pieces = text.split("\n").length;
  return Math.max(1, text.endsWith("\n") ? pieces - 1 : pieces);
}

/** A trace the parser accepted: every event is valid, and each is the event its line says. */
function expectValidTrace(text: string, trace: Trace): void {
  const lines = text.split("\n");
  expect(Number.isInteger(trace.threads) && trace.threads >= 1 && trace.threads <= 4096).toBe(true);
  const live = new Set<string>();
  let maxLive = 0;
  let creates = 0;
  let previousLine = 0;
  for (const e of trace.events) {
    expect(e.line).toBeGreaterThan(previousLine);
    expect(e.line).toBeLessThanOrEqual(lineCount(text));
    previousLine = e.line;
    const words = wordsOf(lines[e.line - 1]!);
    expect(words[0]).toBe(e.kind);
    if ("amount" in e) {
      expect(words).toHaveLength(2);
      expect(Number.isInteger(e.amount) && e.amount >= 0 && e.amount <= U32_MAX).toBe(true);
      expect(e.amount).toBe(Number(words[1]));
      continue;
    }
    expect(Number.isInteger(e.thread) && e.thread >= 0 && e.thread < trace.threads).toBe(true);
    expect(words[1]).toMatch(/^T\d+$/);
    expect(Number(words[1]!.slice(1))).toBe(e.thread);
    if (!("name" in e)) {
      expect(words).toHaveLength(2);
      continue;
    }
    expect(words).toHaveLength(3);
    expect(e.name).toBe(words[2]);
    if (e.kind === "create") {
      expect(live.has(e.name)).toBe(false);
      live.add(e.name);
      creates++;
      maxLive = Math.max(maxLive, live.size);
    } else {
      expect(live.delete(e.name)).toBe(true);
    }
  }
  expect(trace.maxLive).toBe(maxLive);
  expect(trace.creates).toBe(creates);
}

/** A refused trace: the message is "<source>:<line>: ..." with a line of the file. */
function expectTraceError(text: string, err: InputError): void {
  const m = /^fuzz\.trace:(\d+): \S/.exec(err.message);
  expect(m, err.message).not.toBeNull();
  const line = Number(m![1]);
  expect(line).toBeGreaterThanOrEqual(1);
  expect(line).toBeLessThanOrEqual(lineCount(text));
  // Blame lands on a line with an event on it, except "no threads line", said at the end of the file.
  if (!err.message.includes("no 'threads N' line")) expect(wordsOf(text.split("\n")[line - 1]!).length).toBeGreaterThan(0);
}

/** How many inputs a property's checks accepted and refused: a generator that only ever does one is no test. */
interface Tally {
  accepted: number;
  refused: number;
}
const tally = (): Tally => ({ accepted: 0, refused: 0 });

function checkTrace(text: string, seen = tally()): void {
  const result = outcome(() => parseTrace(text, TRACE_SOURCE), "ERR_TRACE");
  if ("ok" in result) {
    expectValidTrace(text, result.ok);
    seen.accepted++;
  } else {
    expectTraceError(text, result.error);
    seen.refused++;
  }
}

const NAMES = ["a", "b", "co7", "x_1", "α", "名前", "🙂", "a\u0000b", "e\u0301", "__proto__", "constructor", "T0", "9"];

/** Steps of a valid trace, rendered against the names live at each point. */
const traceStep = fc.oneof(
  fc.record({ op: fc.constant("create" as const), t: fc.nat(7), name: fc.constantFrom(...NAMES) }),
  fc.record({ op: fc.constant("terminate" as const), t: fc.nat(7), pick: fc.nat() }),
  fc.record({ op: fc.constant("exit" as const), t: fc.nat(7) }),
  fc.record({ op: fc.constantFrom("inc" as const, "dec" as const), k: fc.oneof(fc.nat(1000), fc.constant(U32_MAX)) }),
);

type TraceStep = typeof traceStep extends fc.Arbitrary<infer S> ? S : never;

function renderValidTrace(threads: number, steps: TraceStep[]): string[] {
  const lines = [`threads ${threads}`];
  const live: string[] = [];
  for (const s of steps) {
    if (s.op === "create") {
      if (live.includes(s.name)) continue;
      live.push(s.name);
      lines.push(`create T${s.t % threads} ${s.name}`);
    } else if (s.op === "terminate") {
      if (live.length === 0) continue;
      const [name] = live.splice(s.pick % live.length, 1);
      lines.push(`terminate T${s.t % threads} ${name}`);
    } else if (s.op === "exit") {
      lines.push(`exit T${s.t % threads}`);
    } else {
      lines.push(`${s.op} ${s.k}`);
    }
  }
  return lines;
}

/** Thread and amount words near the valid ones (some are valid: T007 is T7, 00012 is 12). */
const ODD_THREADS = ["T-1", "t0", "T", "T1.5", "TT1", "T99999999999999999999", "T٣", "T0x1", "T+1", "T 1", "T007", "T8"];
const ODD_AMOUNTS = ["-1", "1e3", "0x10", "4294967296", "4294967295", "99999999999999999999999", "NaN", "１", "+5", "00012", "0", "1.0", "Infinity"];
const ODD_TEXT = fc.string({ unit: "binary", maxLength: 12 });

/** One change to a line of a valid trace. */
const traceMutation = fc.oneof(
  fc.record({ kind: fc.constant("drop-word" as const), at: fc.nat(), word: fc.nat() }),
  fc.record({ kind: fc.constant("add-word" as const), at: fc.nat(), text: fc.oneof(fc.constantFrom("T0", "1", "x", "#", "threads"), ODD_TEXT) }),
  fc.record({ kind: fc.constant("thread" as const), at: fc.nat(), text: fc.constantFrom(...ODD_THREADS) }),
  fc.record({ kind: fc.constant("amount" as const), at: fc.nat(), text: fc.constantFrom(...ODD_AMOUNTS) }),
  fc.record({ kind: fc.constant("name" as const), at: fc.nat(), text: fc.oneof(fc.constantFrom(...NAMES), ODD_TEXT) }),
  fc.record({ kind: fc.constant("comment" as const), at: fc.nat(), text: ODD_TEXT, whole: fc.boolean() }),
  fc.record({ kind: fc.constant("blank" as const), at: fc.nat(), text: fc.constantFrom("", " ", "\t", "\r", " \u00a0 ", "\u2028") }),
  fc.record({ kind: fc.constant("duplicate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("swap" as const), at: fc.nat(), other: fc.nat() }),
  fc.record({ kind: fc.constant("replace" as const), at: fc.nat(), text: fc.string({ unit: "binary", maxLength: 30 }) }),
);
type TraceMutation = typeof traceMutation extends fc.Arbitrary<infer M> ? M : never;

function mutateTrace(lines: string[], m: TraceMutation): string[] {
  const out = [...lines];
  const i = m.at % out.length;
  const words = out[i]!.split(" ");
  const setWord = (index: number, text: string) => {
    if (index < words.length) words[index] = text;
    out[i] = words.join(" ");
  };
  switch (m.kind) {
    case "drop-word":
      words.splice(m.word % words.length, 1);
      out[i] = words.join(" ");
      break;
    case "add-word":
      out[i] = `${out[i]} ${m.text}`;
      break;
    case "thread":
      setWord(1, m.text);
      break;
    case "amount":
      if (/^(inc|dec|threads) /.test(out[i]!)) setWord(1, m.text);
      break;
    case "name":
      setWord(2, m.text);
      break;
    case "comment":
      if (m.whole) out.splice(i, 0, `# ${m.text}`);
      else out[i] = `${out[i]} #${m.text}`;
      break;
    case "blank":
      out.splice(i, 0, m.text);
      break;
    case "duplicate":
      out.splice(i, 0, out[i]!);
      break;
    case "swap": {
      const j = m.other % out.length;
      [out[i], out[j]] = [out[j]!, out[i]!];
      break;
    }
    case "replace":
      out[i] = m.text;
      break;
  }
  return out;
}

const lineEnding = fc.constantFrom("\n", "\r\n", "mixed" as const);

/** The lines as a file: LF, CRLF or both in turn, with or without a final line ending. */
function joinLines(lines: string[], ending: "\n" | "\r\n" | "mixed", finalNewline: boolean): string {
  const endingOf = (i: number) => (ending === "mixed" ? (i % 2 ? "\r\n" : "\n") : ending);
  return lines.map((l, i) => l + (i === lines.length - 1 && !finalNewline ? "" : endingOf(i))).join("");
}

describe("fuzz: the trace parser", () => {
  it("arbitrary text: a valid trace or ERR_TRACE naming a line of the file", () => {
    fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 300 }), (text) => checkTrace(text)), { numRuns: 3000 });
  });

  it("word soup: the format's own words in random order", () => {
    const word = fc.constantFrom("threads", "inc", "dec", "create", "terminate", "exit", "T0", "T1", "T3", "a", "b", "1", "0", "2", "#", "4294967295", "\r", "\t");
    const soup = fc.array(word, { maxLength: 4 }).map((ws) => ws.join(" "));
    const wellFormed = fc.constantFrom("inc 1", "dec 2", "exit T1", "create T0 a", "terminate T0 a", "create T1 b", "terminate T3 b", "# c", "");
    const line = fc.oneof(soup, wellFormed);
    const header = fc.constantFrom([], ["threads 4"]);
    const seen = tally();
    fc.assert(
      fc.property(header, fc.array(line, { maxLength: 12 }), lineEnding, fc.boolean(), (first, lines, ending, final) =>
        checkTrace(joinLines([...first, ...lines], ending, final), seen),
      ),
      { numRuns: 3000 },
    );
    expect(seen.accepted).toBeGreaterThan(0);
  });

  it("valid traces with random mutations: dropped and extra words, bad threads and amounts, unicode, comments, CRLF", () => {
    const seen = tally();
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(traceStep, { maxLength: 25 }),
        fc.array(traceMutation, { maxLength: 3 }),
        lineEnding,
        fc.boolean(),
        (threads, steps, mutations, ending, final) => {
          const lines = mutations.reduce(mutateTrace, renderValidTrace(threads, steps));
          checkTrace(joinLines(lines, ending, final), seen);
        },
      ),
      { numRuns: 5000 },
    );
    expect(seen.accepted).toBeGreaterThan(200);
    expect(seen.refused).toBeGreaterThan(200);
  });

  it("valid traces without mutations are accepted, with any line endings", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(traceStep, { maxLength: 25 }), lineEnding, fc.boolean(), (threads, steps, ending, final) => {
        const text = joinLines(renderValidTrace(threads, steps), ending, final);
        const trace = parseTrace(text, TRACE_SOURCE);
        expectValidTrace(text, trace);
      }),
      { numRuns: 800 },
    );
  });
});

// ------------------------------------------------------------------ scenarios

const SCENARIO_SOURCE = "fuzz.json";
const SHIPPED = ["bug-report.json", "stress-small.json", "imbalance.json", "randread.json", "custom-example.json"].map((name) => ({
  name,
  value: JSON.parse(readFileSync(join(import.meta.dirname, "..", "scenarios", name), "utf8")) as unknown,
}));

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Segment = string | number;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isInt = (v: unknown, min: number, max: number) => typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;
const isPowerOfTwo = (n: number) => (n & (n - 1)) === 0;

/** The limits scenarios/README.md documents, checked on a scenario that validated. */
function expectWithinLimits(s: Scenario): void {
  const fields: Record<Scenario["kind"], string[]> = {
    "vma-exhaustion": ["kind", "description", "guest", "rounds", "inFlight", "mainLoopInFlight", "maxMapCount", "seed"],
    imbalance: ["kind", "description", "threads", "burstThread", "burst", "rounds", "inFlight", "poolSizeIncrease", "maxMapCount", "seed"],
    randread: ["kind", "description", "threads", "blockSizes", "iodepths", "durationMs", "device", "seed"],
    custom: ["kind", "description", "module", "threads", "options", "maxMapCount", "seed"],
  };
  expect(Object.keys(s).sort()).toEqual([...fields[s.kind]].sort());
  expect(typeof s.description).toBe("string");
  expect(isInt(s.seed, 0, 4294967295)).toBe(true);
  const maxMapCountOk = (m: unknown) => m === null || isInt(m, 1, 2147483647);
  switch (s.kind) {
    case "vma-exhaustion": {
      const g = s.guest;
      expect(Object.keys(g).sort()).toEqual(["devices", "iothreads", "mainLoop"]);
      expect(isInt(g.iothreads, 1, 64)).toBe(true);
      expect(typeof g.mainLoop).toBe("boolean");
      expect(g.devices.length >= 1 && g.devices.length <= 32).toBe(true);
      expect(new Set(g.devices.map((d) => d.name)).size).toBe(g.devices.length);
      for (const d of g.devices) {
        expect(Object.keys(d).sort()).toEqual(["iothreads", "name", "numQueues", "queueSize"]);
        expect(typeof d.name === "string" && d.name.trim() !== "").toBe(true);
        expect(isInt(d.numQueues, 1, 1024)).toBe(true);
        expect(isInt(d.queueSize, 2, 1024) && isPowerOfTwo(d.queueSize)).toBe(true);
        expect(d.iothreads.length >= 1 && d.iothreads.length <= 64).toBe(true);
        expect(new Set(d.iothreads).size).toBe(d.iothreads.length);
        for (const t of d.iothreads) expect(isInt(t, 0, g.iothreads - 1)).toBe(true);
      }
      expect(isInt(s.rounds, 1, 10000)).toBe(true);
      expect(typeof s.inFlight.min === "number" && typeof s.inFlight.max === "number").toBe(true);
      expect(0 < s.inFlight.min && s.inFlight.min <= s.inFlight.max && s.inFlight.max <= 1).toBe(true);
      expect(isInt(s.mainLoopInFlight, 0, 1048576)).toBe(true);
      expect(maxMapCountOk(s.maxMapCount)).toBe(true);
      break;
    }
    case "imbalance":
      expect(isInt(s.threads, 2, 64)).toBe(true);
      expect(isInt(s.burstThread, 0, s.threads - 1)).toBe(true);
      expect(isInt(s.burst, 1, 1048576)).toBe(true);
      expect(isInt(s.rounds, 1, 10000)).toBe(true);
      expect(isInt(s.inFlight, 1, 1048576)).toBe(true);
      expect(isInt(s.poolSizeIncrease, 0, 16777216)).toBe(true);
      expect(maxMapCountOk(s.maxMapCount)).toBe(true);
      break;
    case "randread":
      expect(isInt(s.threads, 1, 64)).toBe(true);
      expect(s.blockSizes.length >= 1 && s.blockSizes.length <= 64).toBe(true);
      expect(new Set(s.blockSizes).size).toBe(s.blockSizes.length);
      for (const b of s.blockSizes) expect(isInt(b, 512, 16 * 1024 * 1024) && b % 512 === 0).toBe(true);
      expect(s.iodepths.length >= 1 && s.iodepths.length <= 64).toBe(true);
      expect(new Set(s.iodepths).size).toBe(s.iodepths.length);
      for (const d of s.iodepths) expect(isInt(d, 1, 1024)).toBe(true);
      expect(isInt(s.durationMs, 10, 600000)).toBe(true);
      expect(Object.keys(s.device).sort()).toEqual(["bandwidthMBps", "latencyUs"]);
      expect(typeof s.device.latencyUs === "number" && s.device.latencyUs >= 0 && s.device.latencyUs <= 1e6).toBe(true);
      expect(typeof s.device.bandwidthMBps === "number" && s.device.bandwidthMBps > 0 && s.device.bandwidthMBps <= 1e6).toBe(true);
      break;
    case "custom":
      expect(typeof s.module === "string" && s.module.trim() !== "").toBe(true);
      expect(isInt(s.threads, 1, 64)).toBe(true);
      expect(isObject(s.options)).toBe(true);
      expect(maxMapCountOk(s.maxMapCount)).toBe(true);
      break;
  }
}

/** Fields given as plain values come back as given (defaults only fill in what is missing). */
function expectGivenFieldsKept(input: unknown, s: Scenario): void {
  if (!isObject(input)) return;
  const kept = ["description", "seed", "rounds", "threads", "burstThread", "burst", "poolSizeIncrease", "durationMs", "mainLoopInFlight", "maxMapCount", "module"];
  for (const field of kept) if (Object.hasOwn(input, field)) expect((s as unknown as Record<string, unknown>)[field]).toEqual(input[field]);
}

/**
 * Reads the field path at the start of a message's rest: `a.b[2].c`, with a
 * field that is no identifier written `["x y"]`. Null when the rest does not
 * start with a path followed by ": ".
 */
function readFieldPath(rest: string): { path: Segment[]; after: string } | null {
  const path: Segment[] = [];
  let i = 0;
  for (;;) {
    const ident = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(rest.slice(i));
    const index = /^\[(\d+)\]/.exec(rest.slice(i));
    if (path.length === 0 && ident) {
      path.push(ident[0]);
      i += ident[0].length;
    } else if (path.length > 0 && rest[i] === "." && /^[A-Za-z_$]/.test(rest[i + 1] ?? "")) {
      const name = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(rest.slice(i + 1))![0];
      path.push(name);
      i += 1 + name.length;
    } else if (index) {
      path.push(Number(index[1]));
      i += index[0].length;
    } else if (rest.startsWith('["', i)) {
      let j = i + 2;
      while (j < rest.length && rest[j] !== '"') j += rest[j] === "\\" ? 2 : 1;
      if (rest[j + 1] !== "]") return null;
      path.push(JSON.parse(rest.slice(i + 1, j + 1)) as string);
      i = j + 2;
    } else {
      break;
    }
  }
  if (path.length === 0 || !rest.startsWith(": ", i)) return null;
  return { path, after: rest.slice(i + 2) };
}

/** A refused scenario: "<file>: <path>: <what>", the path leading to the culprit in the input. */
function expectScenarioError(text: string, input: unknown, err: InputError): void {
  const prefix = `${SCENARIO_SOURCE}: `;
  expect(err.message.startsWith(prefix), err.message).toBe(true);
  const rest = err.message.slice(prefix.length);
  if (rest.startsWith("not valid JSON (")) {
    expect(() => JSON.parse(text)).toThrow();
    expect(rest).toMatch(/^not valid JSON \(.+\)$/);
    return;
  }
  const found = readFieldPath(rest);
  if (found === null) {
    // Only the file as a whole has no field to name: it is not a JSON object.
    expect(isObject(input), err.message).toBe(false);
    expect(rest).toMatch(/ is not allowed; allowed: a JSON object with a "kind" field$/);
    return;
  }
  const { path, after } = found;
  let parent: unknown = input;
  for (const segment of path.slice(0, -1)) {
    expect(isObject(parent) || Array.isArray(parent), err.message).toBe(true);
    parent = (parent as Record<string | number, unknown>)[segment];
  }
  const last = path[path.length - 1]!;
  const present = (Array.isArray(parent) && typeof last === "number" && last < parent.length) || (isObject(parent) && Object.hasOwn(parent, last));
  if (after.startsWith("missing; allowed: ")) {
    expect(isObject(parent) && !present, err.message).toBe(true);
  } else if (after.startsWith("unknown field; allowed fields")) {
    expect(present, err.message).toBe(true);
  } else {
    expect(after, err.message).toMatch(/ is not allowed; allowed: .+$/);
    expect(present, err.message).toBe(true);
    // The value shown is the value in the file (cut when long).
    const value = (parent as Record<string | number, unknown>)[last];
    const shown = typeof value === "number" ? String(value) : JSON.stringify(value);
    if (shown.length < 50 && !NOT_ONE_LINE.test(shown)) expect(after.startsWith(`${shown} is not allowed`), err.message).toBe(true);
  }
}

function checkScenarioText(text: string, input: unknown, seen = tally()): void {
  const result = outcome(() => parseScenario(text, SCENARIO_SOURCE), "ERR_SCENARIO");
  if ("ok" in result) {
    expectWithinLimits(result.ok);
    expectGivenFieldsKept(input, result.ok);
    seen.accepted++;
  } else {
    expectScenarioError(text, input, result.error);
    seen.refused++;
  }
}

const checkScenarioValue = (value: unknown, seen = tally()) => checkScenarioText(JSON.stringify(value), value, seen);

/** Values near every documented limit, and the shapes the fields take. */
const INTERESTING: Json[] = [
  0, -1, 1, 2, 3, 0.5, 1.5, 63, 64, 65, 255, 256, 300, 1023, 1024, 1025, 1048576, 1048577, 16777216, 16777217,
  2147483647, 2147483648, 4294967295, 4294967296, 1e308, -1e308, 5e-324, 0.1, 1e-9,
  null, true, false, "", " ", "4k", "128k", "1m", "16m", "17m", "513", "4K", "0k", "disk0", "disk1", "legacy", "custom", "randread", "imbalance", "vma-exhaustion", "x\ny",
  [], {}, [0], [0, 0], [1, 1], [0, 1, 2, 3], [0, 64], ["4k", 4096], { min: 0.5, max: 0.75 }, { min: 0, max: 1 }, { numQueues: 1 }, { name: "disk1", numQueues: 1 },
];
const FIELD_NAMES = [
  "kind", "description", "guest", "rounds", "inFlight", "mainLoopInFlight", "maxMapCount", "seed", "threads", "burstThread", "burst", "poolSizeIncrease",
  "blockSizes", "iodepths", "durationMs", "device", "module", "options", "iothreads", "mainLoop", "devices", "name", "numQueues", "queueSize", "latencyUs",
  "bandwidthMBps", "min", "max", "__proto__", "constructor",
];
const jsonValue = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...INTERESTING) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json> },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
);
const fieldName = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...FIELD_NAMES) }, { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 12 }) });

const scenarioMutation = fc.record({ op: fc.constantFrom("remove", "replace", "add"), at: fc.nat(), name: fieldName, value: jsonValue });
type ScenarioMutation = typeof scenarioMutation extends fc.Arbitrary<infer M> ? M : never;

/** Every place in a JSON value: the root, each field, each item. */
function placesOf(value: Json, path: Segment[] = []): Segment[][] {
  const places = [path];
  if (Array.isArray(value)) value.forEach((v, i) => places.push(...placesOf(v, [...path, i])));
  else if (value !== null && typeof value === "object") for (const [k, v] of Object.entries(value)) places.push(...placesOf(v, [...path, k]));
  return places;
}

function mutateScenario(value: Json, m: ScenarioMutation): Json {
  const copy = structuredClone(value);
  const places = placesOf(copy);
  const path = places[m.at % places.length]!;
  if (path.length === 0) return m.op === "replace" ? m.value : copy;
  let parent = copy as Record<Segment, Json>;
  for (const segment of path.slice(0, -1)) parent = parent[segment] as Record<Segment, Json>;
  const last = path[path.length - 1]!;
  const target = parent[last]!;
  if (m.op === "remove") {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else if (m.op === "replace") {
    parent[last] = m.value;
  } else if (isObject(target)) {
    // defineProperty, so "__proto__" is an own field as JSON.parse would make it.
    Object.defineProperty(target, m.name, { value: m.value, enumerable: true, writable: true, configurable: true });
  } else if (Array.isArray(target)) {
    target.push(m.value);
  }
  return copy;
}

describe("fuzz: scenario validation", () => {
  it("arbitrary JSON: a scenario within the limits or ERR_SCENARIO naming a field", () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => checkScenarioValue(value)), { numRuns: 2000 });
  });

  it("arbitrary objects of a kind: every kind's fields with random values", () => {
    const kind = fc.constantFrom("vma-exhaustion", "imbalance", "randread", "custom");
    const fields = fc.dictionary(fieldName, jsonValue, { maxKeys: 6 });
    const seen = tally();
    fc.assert(fc.property(kind, fields, (k, f) => checkScenarioValue({ kind: k, ...f }, seen)), { numRuns: 2000 });
    expect(seen.accepted).toBeGreaterThan(0);
  });

  it("arbitrary text: a scenario, or ERR_SCENARIO (one line even when V8 quotes the text)", () => {
    const text = fc.oneof(fc.string({ unit: "binary", maxLength: 80 }), fc.jsonValue().map((v) => JSON.stringify(v, null, 2).slice(0, -1)));
    fc.assert(
      fc.property(text, (t) => {
        let input: unknown;
        try {
          input = JSON.parse(t);
        } catch {
          input = undefined;
        }
        checkScenarioText(t, input);
      }),
      { numRuns: 2000 },
    );
  });

  it.each(SHIPPED.map((s) => [s.name, s.value] as const))("%s with fields removed, replaced or added", (_name, shipped) => {
    const seen = tally();
    checkScenarioValue(shipped, seen);
    fc.assert(
      fc.property(fc.array(scenarioMutation, { minLength: 1, maxLength: 4 }), (mutations) => {
        checkScenarioValue(mutations.reduce(mutateScenario, shipped as Json), seen);
      }),
      { numRuns: 1500 },
    );
    expect(seen.accepted).toBeGreaterThan(20);
    expect(seen.refused).toBeGreaterThan(200);
  });
});

// ------------------------------------------------------------------ CLI flags

/** --max-map-count → maxMapCount: the option a flag names. */
function optionOfFlag(flag: string): OptionName {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) as OptionName;
}

/** The ranges of the integer options (scenarios/README.md, the commands' --help). */
const INTEGER_RANGES: [string, number, number][] = [
  ["threads", 1, 64],
  ["max-map-count", 1, 2147483647],
  ["baseline-vmas", 0, 2147483647],
  ["seed", 0, 4294967295],
  ["timeout-ms", 100, 86400000],
  ["duration-ms", 10, 600000],
];

const numberish = fc.oneof(
  fc.string({ unit: "binary", maxLength: 16 }),
  fc.stringMatching(/^[-+]?\d{0,22}(\.\d*)?([eE]\d+)?[kKmMgG]?$/),
  fc.bigInt({ min: -(10n ** 25n), max: 10n ** 25n }).map(String),
  fc.nat().map(String),
  fc.constantFrom("", " 1", "1 ", "0x10", "٣", "１", "1_000", "Infinity", "NaN", "-0", "00", "4294967295", "4294967296", "2147483648"),
);

function expectBadOption(run: () => unknown, flag: string): void {
  const result = outcome(run, "ERR_BAD_OPTION");
  expect("error" in result).toBe(true);
  if ("error" in result) expect(result.error.message.startsWith(`bad --${flag} `), result.error.message).toBe(true);
}

describe("fuzz: the CLI's flag parsers", () => {
  it("an integer flag: an integer in the range, written in decimal digits, or ERR_BAD_OPTION", () => {
    fc.assert(
      fc.property(fc.constantFrom(...INTEGER_RANGES), numberish, ([name, min, max], text) => {
        const result = outcome(() => flagValue("stress", optionOfFlag(name), text) as number, "ERR_BAD_OPTION");
        if ("ok" in result) {
          expect(text).toMatch(/^-?\d+$/);
          expect(result.ok).toBe(Number(text));
          expect(Number.isSafeInteger(result.ok) && result.ok! >= min && result.ok! <= max).toBe(true);
        } else {
          expect(result.error.message).toMatch(new RegExp(`^bad --${name} .*; allowed: an integer from ${min} to ${max}$`, "s"));
          expect(/^-?\d+$/.test(text) && Number(text) >= min && Number(text) <= max).toBe(false);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("--stack-size: a positive multiple of the page size up to 256 MiB, or ERR_BAD_OPTION", () => {
    fc.assert(
      fc.property(numberish, (text) => {
        const result = outcome(() => flagValue("stress", "stackSize", text) as number, "ERR_BAD_OPTION");
        if ("ok" in result) {
          const bytes = result.ok!;
          expect(Number.isSafeInteger(bytes) && bytes > 0 && bytes % 4096 === 0 && bytes <= 256 << 20).toBe(true);
          const m = /^(\d+)([kKmMgG]?)$/.exec(text)!;
          expect(bytes).toBe(Number(m[1]) * { "": 1, k: 1024, m: 1 << 20, g: 1 << 30 }[m[2]!.toLowerCase()]!);
        } else {
          expectBadOption(() => flagValue("stress", "stackSize", text), "stack-size");
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("--policy: one or more distinct policy names, or ERR_BAD_OPTION", () => {
    const item = fc.oneof(fc.constantFrom("legacy", "batched", "none", " legacy", "none ", "", "LEGACY", "fifo", "legacy;batched"), fc.string({ maxLength: 6 }));
    const list = fc.oneof(fc.array(item, { minLength: 1, maxLength: 5 }).map((xs) => xs.join(",")), fc.string({ unit: "binary", maxLength: 20 }));
    fc.assert(
      fc.property(list, (text) => {
        const result = outcome(() => flagValue("stress", "policies", text) as string[], "ERR_BAD_OPTION");
        if ("ok" in result) {
          expect(result.ok.length).toBeGreaterThanOrEqual(1);
          expect(new Set(result.ok).size).toBe(result.ok.length);
          for (const p of result.ok) expect(["legacy", "batched", "none", "elastic"]).toContain(p);
          expect(result.ok).toEqual(text.split(",").map((s) => s.trim()));
        } else {
          expect(result.error.message.startsWith("bad --policy ")).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("a command line: parsed, or ERR_USAGE naming the command", () => {
    const word = fc.oneof(
      fc.constantFrom("--policy", "--threads", "--seed", "--json", "--json=1", "--check", "--scenario", "--frob", "-h", "-x", "--", "-", "-1", "--seed=-1", "legacy", "4", "file.json", "--policy=batched"),
      fc.string({ unit: "binary", maxLength: 8 }),
    );
    fc.assert(
      fc.property(fc.array(word, { maxLength: 6 }), (argv) => {
        const result = outcome(() => parseCommandArgs("stress", argv, parserSpec(RUNTIME_FLAGS), 0), "ERR_USAGE");
        if ("ok" in result) {
          for (const value of Object.values(result.ok.values)) expect(["string", "boolean", "undefined"]).toContain(typeof value);
          if (!result.ok.values.help) expect(result.ok.positionals).toHaveLength(0);
        } else {
          expect(result.error.message.startsWith("stress: ")).toBe(true);
          expect(result.error.message.endsWith("; see 'coropool stress --help'")).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
