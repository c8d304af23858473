import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { InputError } from "../src/errors.js";
import { isPolicyName } from "../src/pools/index.js";
import { importQemuLog } from "../src/replay/import.js";
import { decodeInput } from "../src/replay/input-format.js";
import { parseVirtioBlkSpec, poolIncreaseFor } from "../src/replay/pool-increase.js";
import { replayTrace, type ReplayResult } from "../src/replay/replay.js";
import { replayLog, type LogReplayOptions } from "../src/replay/replay-log.js";
import { parseTrace } from "../src/replay/trace.js";

const SAMPLES = join(import.meta.dirname, "fixtures", "qemu-real");
const ORACLE = join(import.meta.dirname, "fixtures", "oracle");

const cases = readFileSync(join(SAMPLES, "cases.tsv"), "utf8")
  .trim()
  .split("\n")
  .slice(1)
  .map((row) => {
    const [file, qemu, policy, inc, end, peak] = row.split("\t") as [string, string, string, string, string, string];
    if (!isPolicyName(policy)) throw new Error("bad policy in cases.tsv: " + policy);
    return { file, qemu, policy, poolIncrease: Number(inc), stacksAtEnd: Number(end), sampledPeak: Number(peak) };
  });

const mappedAtEnd = (r: ReplayResult) => r.live + r.pooled.global + r.pooled.threads.reduce((a, b) => a + b, 0);
const LIMITS = { maxMapCount: 65530, baselineVmas: 1000 };

describe("replaying real QEMU logs matches QEMU's own stack counts", () => {
  it("has the five samples", () => expect(cases).toHaveLength(5));

  it.each(cases)("$file (QEMU $qemu, $policy)", async ({ file, policy, poolIncrease, stacksAtEnd, sampledPeak }) => {
    const { input, outcomes } = await replayLog({ path: join(SAMPLES, file) }, { ...LIMITS, policies: [{ policy, uncapped: true }], poolIncrease });
    const result = outcomes[0]!.result;
    expect(input.format).toBe("qemu-log");
    expect(result.failure).toBeNull();
    expect(Math.abs(mappedAtEnd(result) - stacksAtEnd)).toBeLessThanOrEqual(2);
    expect(result.peak!.stacks).toBeGreaterThanOrEqual(sampledPeak);
    expect(result.peak!.vmas).toBe(LIMITS.baselineVmas + 2 * result.peak!.stacks);
    // QEMU's real counts are explained by its own policy, not by any policy.
    const none = await replayLog({ path: join(SAMPLES, file) }, { ...LIMITS, policies: [{ policy: "none" }], poolIncrease });
    expect(mappedAtEnd(none.outcomes[0]!.result)).toBeLessThan(stacksAtEnd - 2);
  });

  it("the timestamped logs have thread ids and times; the others AioContexts and a note saying so", async () => {
    const timed = await replayLog({ path: join(SAMPLES, "virtio-p2-timestamped.trace.log.gz") }, { ...LIMITS, policies: [{ policy: "legacy" }] });
    expect(timed.input.qemu!.threadsAre).toBe("thread ids");
    expect(timed.input.qemu!.threads).toEqual(["tid 305", "tid 308", "tid 309"]);
    expect(timed.outcomes[0]!.result.peak!.seconds).toBeGreaterThan(0);
    const plain = await replayLog({ path: join(SAMPLES, "virtio-p1.trace.log.gz") }, { ...LIMITS, policies: [{ policy: "legacy" }] });
    expect(plain.input.qemu!.threadsAre).toBe("AioContexts");
    expect(plain.input.qemu!.note).toMatch(/two AioContexts/);
    expect(plain.outcomes[0]!.result.peak!.seconds).toBeNull();
  });
});

describe("the QEMU log parser", () => {
  const enter = (ctx: string, to: string) => `qemu_aio_coroutine_enter ctx ${ctx} from 0x7f06743fed88 to ${to} opaque (nil)`;
  const term = (self: string) => `qemu_coroutine_terminate self ${self}`;
  const opts = (over: Partial<LogReplayOptions> = {}): LogReplayOptions => ({ ...LIMITS, policies: [{ policy: "none" }], ...over });

  it("creates at the first enter of an address that is not live, on the entering thread; terminate ends it; addresses are reused", async () => {
    const text = [enter("0xa0", "0x100"), enter("0xa0", "0x100"), enter("0xb0", "0x200"), term("0x100"), enter("0xb0", "0x100"), term("0x200"), term("0x100"), ""].join("\n");
    const { input, outcomes } = await replayLog({ text }, opts({ policies: [{ policy: "legacy" }] }));
    const r = outcomes[0]!.result;
    expect(input.qemu).toMatchObject({ enters: 4, reEnters: 1, terminates: 3, threads: ["ctx 0xa0", "ctx 0xb0"] });
    expect(input.creates).toBe(3);
    expect(input.maxLive).toBe(2);
    expect(r.events).toBe(6);
    // The second create of 0x100 finds the alloc pool empty and the release
    // pool at 1, not above 64: legacy maps a new stack.
    expect(r.stacksCreated).toBe(3);
    expect(r.live).toBe(0);
    // The legacy release pool takes every terminated stack while it is below 2 × 64.
    expect(r.pooled.global).toBe(3);
  });

  it("a coroutine terminates on the thread that entered it last (no thread ids)", async () => {
    const text = [enter("0xa0", "0x100"), enter("0xb0", "0x100"), term("0x100")].join("\n");
    const { outcomes } = await replayLog({ text }, opts({ policies: [{ policy: "batched" }] }));
    expect(outcomes[0]!.result.pooled.threads).toEqual([0, 1]);
  });

  it("with -msg timestamp=on the threads are the TIDs, even where a terminate happens", async () => {
    const text = [`11@5.000001:${enter("0xa0", "0x100")}`, `12@5.000200:${enter("0xa0", "0x200")}`, `12@5.000300:${term("0x100")}`, `12@5.5:${term("0x200")}`].join("\n");
    const { input, outcomes } = await replayLog({ text }, opts({ policies: [{ policy: "batched" }] }));
    expect(input.qemu!.threads).toEqual(["tid 11", "tid 12"]);
    expect(outcomes[0]!.result.pooled.threads).toEqual([0, 2]);
    expect(outcomes[0]!.result.peak).toEqual({ stacks: 2, vmas: 1004, line: 2, seconds: 0.000199 });
  });

  it("counts other trace events, skips blank lines, refuses anything else with its line number", async () => {
    const text = [enter("0xa0", "0x100"), "virtio_blk_req_complete vdev 0x1 req 0x2 status 0", "", "1@2.3:aio_co_schedule ctx 0x1 co 0x2", term("0x100")].join("\r\n");
    const { input } = await replayLog({ text }, opts());
    expect(input.qemu!.otherEvents).toBe(2);
    await expect(replayLog({ text: `${enter("0xa0", "0x100")}\nhello world\n` }, opts())).rejects.toThrow(/^text:2: not a QEMU trace event: 'hello world'/);
    await expect(replayLog({ text: `${enter("0xa0", "0x100")}\nqemu_aio_coroutine_enter ctx 0xa0 to 0x1\n` }, opts())).rejects.toThrow(/^text:2: malformed qemu_aio_coroutine_enter/);
    await expect(replayLog({ text: `7@12:${term("0x1")}\n` }, opts())).rejects.toBeInstanceOf(InputError);
  });

  it("reads gzip by its magic bytes, not its name; a text, lines, or a file cut anywhere give one answer", async () => {
    const log = readFileSync(join(SAMPLES, "virtio-p1.trace.log.gz"));
    const dir = mkdtempSync(join(tmpdir(), "coropool-qemu-"));
    writeFileSync(join(dir, "plain.gz"), gzipSync(log).subarray(0, 0)); // an empty file is not gzip
    const text = (await import("node:zlib")).gunzipSync(log).toString("latin1");
    writeFileSync(join(dir, "log.txt.gz"), text); // plain text with a misleading name
    writeFileSync(join(dir, "log.bin"), log); // gzip with no .gz
    const o = opts({ policies: [{ policy: "legacy" }], poolIncrease: 1024 });
    const fromGzip = await replayLog({ path: join(dir, "log.bin") }, o);
    const fromPlain = await replayLog({ path: join(dir, "log.txt.gz") }, o);
    const fromText = await replayLog({ text }, o);
    const fromLines = await replayLog({ lines: text.trimEnd().split("\n") }, o);
    for (const r of [fromPlain, fromText, fromLines]) expect(r.outcomes[0]!.result).toEqual(fromGzip.outcomes[0]!.result);
    expect(fromGzip.input.lines).toBe(95877);
  });

  it("lines read by its shortcuts (a prefix or enter fields as the line before) decode as a plain reading of each line does", async () => {
    // Seeded: runs of one thread, one second and one ctx/from, broken at random, with and without prefixes.
    let seed = 12345;
    const rand = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
    const lines: string[] = [];
    const live: string[] = [];
    let tid = 7;
    let second = 100;
    let ctx = "0xa0";
    let from = "0x7f00";
    for (let i = 0; i < 4000; i++) {
      if (rand(10) === 0) tid = [7, 70, 700, 7000][rand(4)]!;
      if (rand(20) === 0) second += 1 + rand(3);
      if (rand(15) === 0) ctx = ["0xa0", "0xa00", "0xb0"][rand(3)]!;
      if (rand(15) === 0) from = ["0x7f00", "0x7f0000", "0x7e00"][rand(3)]!;
      const prefix = rand(50) === 0 ? "" : `${tid}@${second}.${String(rand(1_000_000)).padStart(6, "0").slice(0, 1 + rand(6))}:`;
      const address = live.length > 0 && rand(2) === 0 ? live.splice(rand(live.length), 1)[0]! : null;
      if (address !== null) lines.push(`${prefix}${term(address)}`);
      else {
        const to = `0x${(0x1000 + rand(64)).toString(16)}`;
        if (!live.includes(to)) live.push(to);
        lines.push(`${prefix}qemu_aio_coroutine_enter ctx ${ctx} from ${from} to ${to} opaque 0x1`);
      }
    }
    const seen: string[] = [];
    const record = (kind: string) => (thread: number, co: number, line: number, time: number) => seen.push(`${kind} T${thread} ${line} ${time}`);
    const sink = { threadsSeen: () => {}, inc: () => {}, dec: () => {}, exit: () => {}, create: record("create"), terminate: record("terminate") };
    const decoded = await decodeInput({ text: lines.join("\n") }, sink, { source: "text", poolIncrease: 0 });

    // Each line read on its own, with regular expressions.
    const expected: string[] = [];
    const threads: string[] = [];
    const liveOn = new Map<string, string>();
    const threadOf = (label: string) => (threads.includes(label) ? threads.indexOf(label) : threads.push(label) - 1);
    lines.forEach((text, i) => {
      const m = /^(?:(\d+)@(\d+)\.(\d+):)?(\w+) (.*)$/.exec(text)!;
      const time = m[1] === undefined ? -1 : Number(m[2]) * 1e6 + Number(m[3]!.padEnd(6, "0"));
      const byTid = m[1] === undefined ? null : `tid ${m[1]}`;
      if (m[4] === "qemu_aio_coroutine_enter") {
        const [, c, to] = /^ctx (\S+) from \S+ to (\S+) /.exec(m[5]!)!;
        const thread = threadOf(byTid ?? `ctx ${c}`);
        if (!liveOn.has(to!)) expected.push(`create T${thread} ${i + 1} ${time}`);
        liveOn.set(to!, byTid ?? `ctx ${c}`);
      } else {
        const self = m[5]!.split(" ")[1]!;
        expected.push(`terminate T${threadOf(byTid ?? liveOn.get(self)!)} ${i + 1} ${time}`);
        liveOn.delete(self);
      }
    });
    expect(seen).toEqual(expected);
    expect(decoded.qemu!.threads).toEqual(threads);
  });

  it("a line that starts as the one before but goes wrong later is still refused, with its line number", async () => {
    const good = `11@5.000001:${enter("0xa0", "0x100")}`;
    await expect(replayLog({ text: `${good}\n11@5.1234567:${term("0x100")}\n` }, opts())).rejects.toThrow(/^text:2: bad line prefix/);
    await expect(replayLog({ text: `${good}\n11@5.000002:${enter("0xa0", "0xZZ")}\n` }, opts())).rejects.toThrow(/^text:2: malformed qemu_aio_coroutine_enter: no 'to 0xADDRESS'/);
    await expect(replayLog({ text: `${good}\n11@5.000002:${enter("0xa0", "0x" + "1".repeat(17))}\n` }, opts())).rejects.toThrow(/^text:2: malformed/);
  });

  it("memory follows the live coroutines: a million lines through a generator", async () => {
    function* lines() {
      for (let i = 0; i < 500_000; i++) {
        yield enter("0xa0", `0x${(0x1000 + (i % 7)).toString(16)}`);
        yield term(`0x${(0x1000 + (i % 7)).toString(16)}`);
      }
    }
    const before = process.memoryUsage().heapUsed;
    const { input, outcomes } = await replayLog({ lines: lines() }, opts({ policies: [{ policy: "batched" }] }));
    expect(input.lines).toBe(1_000_000);
    expect(input.maxLive).toBe(1);
    expect(outcomes[0]!.result.stacksCreated).toBe(1);
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(64 * 1024 * 1024);
  });
});

describe("pool increase from virtio-blk devices", () => {
  it("each device adds num-queues × queue-size / 2", () => {
    expect(poolIncreaseFor(parseVirtioBlkSpec("2x512,2x512"))).toBe(1024);
    expect(poolIncreaseFor(parseVirtioBlkSpec("64x256,64x256"))).toBe(16384);
    expect(() => parseVirtioBlkSpec("2x500")).toThrow(/power of two/);
    expect(() => parseVirtioBlkSpec("0x256")).toThrow(InputError);
  });
});

describe("times in coropool traces, and the streaming replay", () => {
  const oracle = readFileSync(join(ORACLE, "cases.tsv"), "utf8").trim().split("\n").slice(1).map((row) => row.split("\t") as [string, string, string, string, string]);

  it.each(oracle)("streamed %s %s at %s replays byte for byte as the oracle says", async (trace, policy, maxMapCount, baseline, expected) => {
    if (!isPolicyName(policy)) throw new Error(policy);
    const { outcomes } = await replayLog({ path: join(ORACLE, trace) }, { policies: [{ policy }], maxMapCount: Number(maxMapCount), baselineVmas: Number(baseline) });
    expect(JSON.stringify(outcomes[0]!.result)).toBe(readFileSync(join(ORACLE, expected), "utf8").trim());
  });

  it("a streamed trace's quick reading of create and terminate lines gives the events reading every line as text does", async () => {
    // Seeded: the quick form and the forms it leaves to the text reading (odd spacing, CR, comments, T01, UTF-8 names).
    let seed = 99;
    const rand = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
    const lines = ["# a trace", "threads 3", "inc 256"];
    const live: string[] = [];
    const names = ["a", "b", "c-d", "é1", "x_y", "Q"];
    for (let i = 0; i < 3000; i++) {
      const time = [``, `@${10 + (i >> 4)} `, `@${10 + (i >> 4)}.${String(i % 1000).padStart(3, "0")} `, `@${10 + (i >> 4)}.000001 `][rand(4)]!;
      const thread = ["T0", "T1", "T2", "T01"][rand(4)]!;
      const gap = rand(20) === 0 ? "  " : " ";
      const tail = ["", "", "", "\r", " # note"][rand(5)]!;
      const name = live.length > 0 && rand(2) === 0 ? live.splice(rand(live.length), 1)[0]! : null;
      if (name !== null) lines.push(`${time}terminate${gap}${thread} ${name}${tail}`);
      else {
        const fresh = `${names[rand(names.length)]!}${i}`;
        live.push(fresh);
        lines.push(`${time}create ${thread}${gap}${fresh}${tail}`);
      }
      if (rand(40) === 0) lines.push(["", "dec 1", "exit T2", "   "][rand(4)]!);
    }
    const text = lines.join("\n") + "\n";
    const seen: string[] = [];
    const record = (kind: string) => (thread: number, co: number, line: number, time: number) => seen.push(`${kind} T${thread} ${co} ${line} ${time}`);
    const sink = { threadsSeen: () => {}, inc: () => {}, dec: () => {}, exit: (t: number, line: number) => seen.push(`exit T${t} ${line}`), create: record("create"), terminate: record("terminate") };
    await decodeInput({ text }, sink, { source: "text", poolIncrease: 0 });
    const expected: string[] = [];
    const ids = new Map<string, number>();
    let next = 0;
    const free: number[] = [];
    for (const e of parseTrace(text).events) {
      const time = e.time ?? -1;
      if (e.kind === "create") {
        const id = free.length > 0 ? free.pop()! : next++;
        ids.set(e.name, id);
        expected.push(`create T${e.thread} ${id} ${e.line} ${time}`);
      } else if (e.kind === "terminate") {
        const id = ids.get(e.name)!;
        ids.delete(e.name);
        free.push(id);
        expected.push(`terminate T${e.thread} ${id} ${e.line} ${time}`);
      } else if (e.kind === "exit") expected.push(`exit T${e.thread} ${e.line}`);
    }
    expect(seen).toEqual(expected);
    expect(seen.length).toBeGreaterThan(3000);
    await expect(replayLog({ text: "threads 2\n@1.5 create T0 a\n@7.1234567 create T0 b\n" }, { ...LIMITS, policies: [{ policy: "legacy" }] })).rejects.toThrow(/^text:3: bad time/);
    await expect(replayLog({ text: "threads 2\ncreate T0 a\ncreate T2 b\n" }, { ...LIMITS, policies: [{ policy: "legacy" }] })).rejects.toThrow(/^text:3: bad thread 'T2'; allowed: T0 to T1/);
    await expect(replayLog({ text: "threads 2\ncreate T0 a\ncreate T1 a\n" }, { ...LIMITS, policies: [{ policy: "legacy" }] })).rejects.toThrow(/^text:3: create of 'a', which is already live/);
  });

  it("a time per line is optional; with times the result shows the peak and when", async () => {
    const text = "threads 1\n@10 create T0 a\n@10.5 create T0 b\nterminate T0 a\n@12.000001 terminate T0 b\n";
    const trace = parseTrace(text);
    expect(trace.events.map((e) => e.time)).toEqual([10_000_000, 10_500_000, undefined, 12_000_001]);
    const { result } = replayTrace(trace, { policy: "none", ...LIMITS });
    expect(result.peak).toEqual({ stacks: 2, vmas: 1004, line: 3, seconds: 0.5 });
    expect(replayTrace(parseTrace(text.replace(/@\S+ /g, "")), { policy: "none", ...LIMITS }).result.peak).toBeUndefined();
    expect(() => parseTrace("threads 1\n@1.1234567 create T0 a\n")).toThrow(/^trace:2: bad time/);
    expect(() => parseTrace("threads 1\n@3\n")).toThrow(/^trace:2: a time with no event/);
  });

  it("grows its stack table and thread slots as the stream needs, with the same result", async () => {
    const lines = ["threads 3"];
    for (let i = 0; i < 5000; i++) lines.push(`create T${i % 3} c${i}`);
    for (let i = 0; i < 5000; i++) lines.push(`terminate T${(i + 1) % 3} c${i}`);
    const text = lines.join("\n");
    for (const policy of ["legacy", "batched", "none"] as const) {
      const whole = replayTrace(parseTrace(text), { policy, ...LIMITS }).result;
      const streamed = (await replayLog({ text }, { policies: [{ policy }], ...LIMITS })).outcomes[0]!.result;
      expect(streamed).toEqual(whole);
    }
  });
});

describe("coropool import", () => {
  it.each(cases.filter((c) => c.file.includes("timestamped") || c.file.includes("nvme-n2")))("$file: the imported trace replays as the log does", async ({ file, poolIncrease }) => {
    const dir = mkdtempSync(join(tmpdir(), "coropool-import-"));
    const out = join(dir, "out.trace");
    const summary = await importQemuLog({ path: join(SAMPLES, file) }, out, { poolIncrease });
    const o: LogReplayOptions = { ...LIMITS, policies: [{ policy: "legacy" }, { policy: "batched" }, { policy: "none" }], poolIncrease };
    const fromLog = await replayLog({ path: join(SAMPLES, file) }, o);
    const fromTrace = await replayLog({ path: out }, o);
    expect(fromTrace.input.format).toBe("coropool-trace");
    expect(summary.events).toBe(fromLog.outcomes[0]!.result.events);
    for (let i = 0; i < 3; i++) {
      const a = fromLog.outcomes[i]!.result;
      const b = fromTrace.outcomes[i]!.result;
      // Line numbers differ, and a trace without times shows no peak (its JSON is as it always was).
      const { peak: peakA, ...restA } = a;
      const { peak: peakB, ...restB } = b;
      expect(restB).toEqual(restA);
      if (peakB !== undefined) expect({ ...peakB, line: 0 }).toEqual({ ...peakA, line: 0 });
      else expect(a.peak!.seconds).toBeNull();
    }
    const text = readFileSync(out, "utf8");
    expect(text).toMatch(/^# coropool trace imported from the QEMU log/);
    expect(text).toContain(`threads ${summary.threads}\n`);
  });
});
