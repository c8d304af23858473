/**
 * QEMU logs through the CLI and the API: `replay` on a log (plain or gzip),
 * `import` to a coropool trace, `whatif` (text, --json against the schema,
 * --report), and their bad inputs (exit 2, one line). The five real samples
 * go through `replay --json` and `whatif --json` once each; the what-if
 * documents are reused for the page and the schema checks.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import Ajv2020Module from "ajv/dist/2020.js";
import { beforeAll, describe, expect, it } from "vitest";
import { InputError, POLICY_NAMES, replay, whatIf, type ReplayResult, type WhatIfDocument } from "../src/index.js";
import { policyDefinition } from "../src/pools/index.js";
import { renderReportHtml } from "../src/report/html.js";
import { ROOT, runMain } from "./helpers/cli.js";

const Ajv2020 = ((Ajv2020Module as unknown as { default?: unknown }).default ?? Ajv2020Module) as typeof Ajv2020Module;
const ajv = new Ajv2020({ strict: true, allErrors: true });
ajv.addFormat("date-time", { type: "string", validate: (s: string) => !Number.isNaN(Date.parse(s)) });
const RESULT_SCHEMA = JSON.parse(readFileSync(join(ROOT, "docs", "result.schema.json"), "utf8"));
const REPLAY_SCHEMA = JSON.parse(readFileSync(join(ROOT, "docs", "replay.schema.json"), "utf8"));
ajv.addSchema(RESULT_SCHEMA);
ajv.addSchema(REPLAY_SCHEMA);

function expectValid(doc: unknown, ref: string): void {
  const validate = ajv.getSchema(ref)!;
  if (!validate(doc)) throw new Error(`does not match ${ref}:\n${ajv.errorsText(validate.errors, { separator: "\n" })}`);
}

const SAMPLES = join(ROOT, "test", "fixtures", "qemu-real");
const ORACLE = join(ROOT, "test", "fixtures", "oracle");
const dir = mkdtempSync(join(tmpdir(), "coropool-log-cli-"));
const LIMITS = ["--max-map-count", "65530", "--baseline-vmas", "1000"];

const cases = readFileSync(join(SAMPLES, "cases.tsv"), "utf8")
  .trim()
  .split("\n")
  .slice(1)
  .map((row) => {
    const [file, qemu, policy, inc, end] = row.split("\t") as [string, string, string, string, string];
    return { file, qemu, policy, poolIncrease: Number(inc), stacksAtEnd: Number(end), path: join(SAMPLES, file) };
  });
const TIMESTAMPED = cases.find((c) => c.file.startsWith("virtio-p2-timestamped"))!;
const AIO_CONTEXTS = cases.find((c) => c.file.startsWith("virtio-p1"))!;

const mappedAtEnd = (r: ReplayResult) => r.live + r.pooled.global + r.pooled.threads.reduce((a, b) => a + b, 0);
const enter = (ctx: string, to: string) => `qemu_aio_coroutine_enter ctx ${ctx} from 0x7f06743fed88 to ${to} opaque (nil)`;
const term = (self: string) => `qemu_coroutine_terminate self ${self}`;

function file(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** Exit 2, nothing on stdout, one line on stderr matching `message`. */
async function expectBadInput(args: string[], message: RegExp | string): Promise<void> {
  const r = await runMain(args);
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe("");
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
  if (typeof message === "string") expect(r.stderr).toContain(message);
  else expect(r.stderr.trim()).toMatch(message);
}

describe("coropool replay on a QEMU log", () => {
  it.each(cases)("$file --json: the replay object with its peak; QEMU's real end count within 2 stacks", async ({ path, policy, poolIncrease, stacksAtEnd }) => {
    const r = await runMain(["replay", path, "--policy", policy, "--uncapped", "--pool-inc", String(poolIncrease), ...LIMITS, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as ReplayResult;
    expectValid(result, REPLAY_SCHEMA.$id);
    expect(Object.keys(result)).toEqual(["policy", "events", "stacksCreated", "stacksFreed", "live", "pooled", "vmas", "failure", "peak"]);
    expect(Math.abs(mappedAtEnd(result) - stacksAtEnd)).toBeLessThanOrEqual(2);
    expect(result.peak!.vmas).toBe(result.vmas.peak);
  });

  it("the summary says what the threads are (AioContexts, with the main thread's note), the pool increase from --virtio-blk, what was ignored, the peak", async () => {
    const r = await runMain(["replay", AIO_CONTEXTS.path, "--policy", "legacy,none", "--virtio-blk", "2x512,2x512", ...LIMITS]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^.*virtio-p1\.trace\.log\.gz: a QEMU log of 95877 lines/);
    expect(r.stdout).toContain("threads are AioContexts: T0 = ctx 0x");
    expect(r.stdout).toMatch(/note: .*main thread owns two AioContexts/);
    expect(r.stdout).toContain("pool increase: 1024, applied before the first event");
    expect(r.stdout).toContain("ignored: 0 other trace events, 0 terminates of coroutines entered before the log began");
    expect(r.stdout).toMatch(/stacks created\s+\d+\s+\d+/);
    expect(r.stdout).toMatch(/^legacy: peak \d+ stacks \(\d+ VMAs\) at line \d+$/m);
  });

  it("with -msg timestamp=on the threads are thread ids (no note) and the peak has its time", async () => {
    const r = await runMain(["replay", TIMESTAMPED.path, "--policy", "legacy", "--pool-inc", "1024", ...LIMITS]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("threads are thread ids: T0 = tid 305, T1 = tid 308, T2 = tid 309");
    expect(r.stdout).not.toContain("note:");
    expect(r.stdout).toMatch(/^legacy: peak \d+ stacks \(\d+ VMAs\) at line \d+ \(\d+\.\d{3} s\)$/m);
  });

  it("the API's replay() takes the log too, with virtioBlk as text or objects, and gives what the CLI prints", async () => {
    const options = { policies: ["legacy" as const], maxMapCount: 65530, baselineVmas: 1000 };
    const fromText = await replay(TIMESTAMPED.path, { ...options, virtioBlk: "4x256,4x256" });
    const fromObjects = await replay(TIMESTAMPED.path, { ...options, virtioBlk: [{ numQueues: 4, queueSize: 256 }, { numQueues: 4, queueSize: 256 }] });
    const cli = await runMain(["replay", TIMESTAMPED.path, "--policy", "legacy", "--pool-inc", "1024", ...LIMITS, "--json"]);
    expect(fromObjects).toEqual(fromText);
    expect(JSON.stringify(fromText[0])).toBe(cli.stdout.trim());
    await expect(replay(TIMESTAMPED.path, { ...options, poolIncrease: 1024, virtioBlk: "2x512" })).rejects.toThrow(/not both/);
    await expect(replay(TIMESTAMPED.path, { ...options, poolIncrease: -1 })).rejects.toBeInstanceOf(InputError);
    await expect(replay([enter("0xa0", "0x1"), "hello"], options)).rejects.toThrow(/^trace:2: not a QEMU trace event: 'hello'/);
  });

  it("a coropool trace prints exactly what it did before logs were read (text and JSON)", async () => {
    const trace = join(ORACLE, "traces/sample-02.trace");
    const json = await runMain(["replay", trace, "--policy", "legacy", ...LIMITS, "--json"]);
    expect(json.stdout).toBe(readFileSync(join(ORACLE, "expected/sample-02.legacy.65530.1000.json"), "utf8").trim() + "\n");
    const text = await runMain(["replay", trace, "--policy", "legacy", ...LIMITS]);
    expect(text.stdout.split("\n")[0]).toMatch(/^replay of .*sample-02\.trace\s+legacy$/);
    expect(text.stdout).not.toMatch(/threads are|pool increase|peak \d+ stacks/);
  });

  it.each([
    ["a line that is no trace event (plain)", () => file("bad.log", `${enter("0xa0", "0x1")}\n${term("0x1")}\nhello world\n`), /bad\.log:3: not a QEMU trace event: 'hello world'/],
    ["a line that is no trace event (gzip, any name)", () => file("bad-gz.txt", gzipSync(`${enter("0xa0", "0x1")}\nsome apples\n`)), /bad-gz\.txt:2: not a QEMU trace event/],
    ["a malformed enter", () => file("malformed.log", `${enter("0xa0", "0x1")}\nqemu_aio_coroutine_enter ctx 0xa0 to 0x2\n`), /malformed\.log:2: malformed qemu_aio_coroutine_enter/],
    ["a bad timestamp prefix", () => file("prefix.log", `7@12:${term("0x1")}\n`), /prefix\.log:1: bad line prefix/],
    ["a gzip cut short", () => file("cut.gz", gzipSync(`${enter("0xa0", "0x1")}\n`.repeat(2000)).subarray(0, 60)), /cut\.gz': it starts like gzip but does not inflate/],
  ])("exit 2 naming the line for %s", async (_what, make, message) => {
    await expectBadInput(["replay", make(), "--policy", "legacy", ...LIMITS], message);
  });

  it.each([
    [["--pool-inc", "1024", "--virtio-blk", "2x512"], "--pool-inc and --virtio-blk together; give the increase or the disks it comes from, not both"],
    [["--pool-inc", "-1"], "bad --pool-inc -1; allowed: an integer from 0 to 4294967295"],
    [["--pool-inc", "4294967296"], "bad --pool-inc 4294967296"],
    [["--virtio-blk", "2x500"], "bad --virtio-blk 2x500; allowed: NUM_QUEUESxQUEUE_SIZE"],
    [["--virtio-blk", "2x512,"], "bad --virtio-blk 2x512,; allowed: NUM_QUEUESxQUEUE_SIZE"],
    [["--virtio-blk"], "replay: missing the value of --virtio-blk"],
  ])("exit 2 for the pool increase flags %j", async (flags, message) => {
    await expectBadInput(["replay", TIMESTAMPED.path, "--policy", "legacy", ...flags], message);
  });
});

describe("coropool import", () => {
  it("writes the equivalent coropool trace: replaying it gives the counts replaying the log gives", async () => {
    const out = join(dir, "imported", "vm.trace");
    mkdirSync(join(dir, "imported"));
    writeFileSync(out, "an older file, replaced\n");
    const r = await runMain(["import", TIMESTAMPED.path, "-o", out, "--virtio-blk", "4x256,4x256"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("threads are thread ids");
    expect(r.stdout).toMatch(/wrote .*vm\.trace: \d+ events on 3 thread\(s\), with times$/m);
    expect(readdirSync(join(dir, "imported"))).toEqual(["vm.trace"]); // no temporary file left
    const args = ["--policy", "legacy,batched,none", ...LIMITS, "--json"];
    const fromLog = JSON.parse((await runMain(["replay", TIMESTAMPED.path, "--pool-inc", "1024", ...args])).stdout) as ReplayResult[];
    // The trace has its own inc line: a pool increase given for it is not applied again.
    const fromTrace = JSON.parse((await runMain(["replay", out, ...args])).stdout) as ReplayResult[];
    const withoutPeakLine = (r: ReplayResult) => ({ ...r, peak: { ...r.peak!, line: 0 } });
    expect(fromTrace.map(withoutPeakLine)).toEqual(fromLog.map(withoutPeakLine));
    expect(fromTrace[0]!.peak!.seconds).toBeGreaterThan(0);
  });

  it("a failed import leaves the output as it was", async () => {
    const out = file("kept.trace", "threads 1\n");
    await expectBadInput(["import", file("bad-import.log", `${enter("0xa0", "0x1")}\nnot a line\n`), "-o", out], /bad-import\.log:2: not a QEMU trace event/);
    expect(readFileSync(out, "utf8")).toBe("threads 1\n");
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it.each([
    ["the output is the log", () => [copied("self.log"), "-o", join(dir, "self.log")], "cannot write -o '", "it is the input file"],
    ["the output is a folder", () => [TIMESTAMPED.path, "-o", dir], "it is a folder", ""],
    ["the output's folder is a file", () => [TIMESTAMPED.path, "-o", join(copied("plain.log"), "x.trace")], "cannot be used (ENOTDIR)", ""],
    ["no -o", () => [TIMESTAMPED.path], "import: missing -o FILE.trace", ""],
    ["no log", () => ["-o", join(dir, "x.trace")], "import: missing the QEMU LOG", ""],
    ["a coropool trace", () => [join(ORACLE, "traces/sample-01.trace"), "-o", join(dir, "again.trace")], "already a coropool trace, not a QEMU log", ""],
    ["both pool increase flags", () => [TIMESTAMPED.path, "-o", join(dir, "y.trace"), "--pool-inc", "1", "--virtio-blk", "1x4"], "--pool-inc and --virtio-blk together", ""],
  ])("exit 2 when %s", async (_what, args, message, more) => {
    const r = await runMain(["import", ...args()]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toContain(more);
  });
});

function copied(name: string): string {
  const path = join(dir, name);
  copyFileSync(TIMESTAMPED.path, path);
  return path;
}

describe("coropool whatif", () => {
  const docs = new Map<string, { code: number | null; doc: WhatIfDocument }>();
  beforeAll(async () => {
    for (const c of cases) {
      const r = await runMain(["whatif", c.path, "--pool-inc", String(c.poolIncrease), ...LIMITS, "--json"]);
      if (r.code !== 0) throw new Error(`whatif ${c.file} exited ${r.code}: ${r.stderr}`);
      docs.set(c.file, { code: r.code, doc: JSON.parse(r.stdout) as WhatIfDocument });
    }
  }, 120_000);

  it.each(cases)("$file --json: a versioned document the schema validates; the matching policy's end count is QEMU's within 2", async ({ file, policy, poolIncrease, stacksAtEnd }) => {
    const { doc } = docs.get(file)!;
    expectValid(doc, RESULT_SCHEMA.$id);
    expectValid(doc, `${RESULT_SCHEMA.$id}#/$defs/whatifDocument`);
    expect(Object.keys(doc).slice(0, 3)).toEqual(["schemaVersion", "command", "machine"]);
    expect(doc.command).toBe("whatif");
    expect(doc.input.qemu!.poolIncrease).toBe(poolIncrease);
    const labels = doc.rows.map((r) => r.label);
    // Every policy once, and each whose cap --uncapped lifts twice (uncapped, then capped).
    expect(labels).toHaveLength(POLICY_NAMES.length + POLICY_NAMES.filter((p) => policyDefinition(p).liftableCap).length);
    expect(labels.filter((l) => ["legacy", "batched (uncapped)", "batched", "none"].includes(l))).toEqual(["legacy", "batched (uncapped)", "batched", "none"]);
    const matching = doc.rows.find((r) => r.policy === policy && (r.policy !== "batched" || r.uncapped))!;
    expect(Math.abs(matching.mappedAtEnd - stacksAtEnd)).toBeLessThanOrEqual(2);
    for (const row of doc.rows) {
      expect(row.abort).toBeNull();
      // A policy the limit does not steer needs exactly its peak; a capped one's cap falls with the limit, so only: room for every live stack.
      // A capped policy without a known step (elastic) gets no answer rather than a guess.
      const definition = policyDefinition(row.policy);
      if (!definition.usesHardCap || (row.uncapped && definition.liftableCap)) expect(row.smallestSafeMaxMapCount).toBe(row.peakVmas);
      else if (definition.hardCapStep === undefined) expect(row.smallestSafeMaxMapCount).toBeNull();
      else expect(row.smallestSafeMaxMapCount).toBeGreaterThanOrEqual(doc.baselineVmas + 2 * doc.input.maxLive);
      expect(row.series.pooledByThread).toHaveLength(doc.input.qemu!.threads.length);
      expect(row.series.mapped.length).toBeGreaterThan(1);
      expect(row.series.mapped.length).toBeLessThanOrEqual(800);
    }
    expect(doc.axis).toBe(doc.input.hasTimes ? "seconds" : "event");
  });

  it("the page: the table, stacks mapped per policy with the limit line, pooled stacks per thread for each policy", async () => {
    for (const file of [TIMESTAMPED.file, AIO_CONTEXTS.file]) {
      const { doc } = docs.get(file)!;
      const html = renderReportHtml(doc);
      expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
      expect(html).toContain('data-command="whatif"');
      expect(html).toContain('data-section="whatif"');
      expect(html).toContain('data-table="whatif"');
      expect(html.match(/<figure class="chart" data-chart="mapped"/g)).toHaveLength(1);
      expect(html.match(/data-chart="pooled"/g)).toHaveLength(doc.rows.length);
      expect(html).toContain('data-limit="65530"');
      for (const row of doc.rows) expect(html).toContain(`data-series="${row.label}"`);
      expect(html).toContain(doc.axis === "seconds" ? "seconds since the log&#39;s first line" : "pool event (the log has no times)");
      expect(html).not.toContain("data-abort=");
    }
  });

  it("`coropool report` draws the saved document's page", async () => {
    const saved = file("whatif.json", JSON.stringify(docs.get(TIMESTAMPED.file)!.doc));
    const r = await runMain(["report", saved, "-o", join(dir, "whatif-saved.html")]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(dir, "whatif-saved.html"), "utf8")).toBe(renderReportHtml(docs.get(TIMESTAMPED.file)!.doc));
  });

  it("at a limit some policy outgrows: exit 3, where it aborts, and the smallest safe limit is exactly where replay starts completing", async () => {
    const page = join(dir, "low.html");
    const r = await runMain(["whatif", TIMESTAMPED.path, "--policy", "legacy,none", "--pool-inc", "1024", "--max-map-count", "2000", "--baseline-vmas", "1000", "--report", page]);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout).toMatch(/^legacy\s+\d+\s+\d+\s+line \d+ \(\d+\.\d{3} s\)\s+\d+\s+yes, line \d+ \(\d+\.\d{3} s\)\s+\d+\s+-$/m);
    expect(r.stdout).toMatch(/^legacy: aborts at line \d+ \(\d+\.\d{3} s\): failed to (allocate memory for stack|set up stack guard page)$/m);
    expect(r.stdout.trim().split("\n").at(-1)).toBe(`report: ${page}`);
    const html = readFileSync(page, "utf8");
    expect(html).toContain('data-abort="legacy"');
    expect(html).toContain('data-limit="2000"');
    const answer = await whatIf(TIMESTAMPED.path, { policies: ["legacy"], poolIncrease: 1024, maxMapCount: 2000, baselineVmas: 1000 });
    const safe = answer.rows[0]!.smallestSafeMaxMapCount!;
    expect(r.stdout).toMatch(new RegExp(`yes, line ${answer.rows[0]!.abort!.line} .* ${safe}\\s+-$`, "m"));
    const replayAt = async (m: number) => (await runMain(["replay", TIMESTAMPED.path, "--policy", "legacy", "--pool-inc", "1024", "--max-map-count", String(m), "--baseline-vmas", "1000", "--json"])).code;
    expect(await replayAt(safe)).toBe(0);
    expect(await replayAt(safe - 1)).toBe(3);
  });

  it("the API's whatIf() gives the document the CLI prints (but for the time it was made), from a path or from lines read once", async () => {
    const text = ["threads 2", "create T0 a", "create T0 b", "terminate T1 a", "create T1 c", "terminate T1 b", "terminate T0 c"];
    const options = { maxMapCount: 1010, baselineVmas: 1000 };
    const fromArray = await whatIf(text, options);
    const fromGenerator = await whatIf((function* () { yield* text; })(), options);
    expect(fromGenerator.rows).toEqual(fromArray.rows);
    const tracePath = file("small.trace", text.join("\n") + "\n");
    const cli = JSON.parse((await runMain(["whatif", tracePath, "--max-map-count", "1010", "--baseline-vmas", "1000", "--json"])).stdout) as WhatIfDocument;
    expect(cli.rows).toEqual(fromArray.rows);
    expect(cli.input).toEqual({ ...fromArray.input });
    expect(cli.axis).toBe("event");
    await expect(whatIf(text, { ...options, policies: ["fifo" as "legacy"] })).rejects.toThrow(/^bad policies \["fifo"\]; allowed: a list of policies/);
    expect((await whatIf(text, { ...options, policies: ["batched"], uncapped: true })).rows.map((r) => r.label)).toEqual(["batched (uncapped)"]);
  });

  it.each([
    [["--uncapped"], "--uncapped needs --policy"],
    [["--pool-inc", "1", "--virtio-blk", "1x4"], "--pool-inc and --virtio-blk together"],
    [["--policy", "fifo"], "bad --policy fifo"],
    [["--report", ROOT], "cannot write --report"],
    [["--frob"], "whatif: unknown option --frob"],
  ])("exit 2 for %j", async (flags, message) => {
    await expectBadInput(["whatif", TIMESTAMPED.path, ...flags], message);
  });

  it("exit 2 naming the line of a bad log, and for a missing one", async () => {
    await expectBadInput(["whatif", file("bad-whatif.log", `${enter("0xa0", "0x1")}\n${enter("0xa0", "0x2")}\n???\n`)], /bad-whatif\.log:3: not a QEMU trace event: '\?\?\?'/);
    await expectBadInput(["whatif", join(dir, "missing.log")], /cannot read trace '.*missing\.log': ENOENT/);
    await expectBadInput(["whatif"], "whatif: missing the LOG");
  });
});
