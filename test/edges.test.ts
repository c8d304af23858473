/**
 * whatif and replay at the edges of what they accept: a baseline up to
 * 2^31 - 1 plus the stacks never wraps, the smallest safe limit is one the
 * run fits under (or none), an input with no coroutine events says so; a
 * what-if stops at a signal with the answer so far; the long reads tell their
 * progress; small things a scenario file trips on.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import type { WhatIfDocument } from "../src/report/document.js";
import { renderReportHtml } from "../src/report/html.js";
import { formatWhatIf } from "../src/report/whatif-text.js";
import { whatIfReport } from "../src/report/whatif-document.js";
import { importQemuLog } from "../src/replay/import.js";
import { replayTrace } from "../src/replay/replay.js";
import { parseTrace } from "../src/replay/trace.js";
import { whatIf, type WhatIfResult } from "../src/replay/whatif.js";
import { toDocument } from "../src/report/document.js";
import { loadScenarioFile, parseScenario } from "../src/scenarios/validate.js";
import { CLI, ROOT } from "./helpers/cli.js";
import { expectValidDocument } from "./helpers/result-schema.js";

const dir = mkdtempSync(join(tmpdir(), "coropool-edges-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const LARGEST = 2147483647;
const IMBALANCE = join(ROOT, "traces", "imbalance.trace");
const IMBALANCE_TEXT = readFileSync(IMBALANCE, "utf8");

const enter = (co: string) => `qemu_aio_coroutine_enter ctx 0xa0 from 0x7f06743fed88 to ${co} opaque (nil)`;
const terminate = (co: string) => `qemu_coroutine_terminate self ${co}`;
/** `blocks` times: 4 coroutines entered, then terminated. */
function qemuLog(blocks: number): string {
  const cos = ["0x1", "0x2", "0x3", "0x4"];
  return (cos.map(enter).concat(cos.map(terminate)).join("\n") + "\n").repeat(blocks);
}

function document(result: WhatIfResult): WhatIfDocument {
  return toDocument(whatIfReport(result, "test"));
}

describe("whatif at the edges of the baseline and the limit: no arithmetic wraps", () => {
  it("the peaks do not depend on the baseline, whatever it is, up to 2^31 - 1", async () => {
    const at0 = await whatIf({ text: IMBALANCE_TEXT }, { maxMapCount: 65530, baselineVmas: 0 });
    for (const baselineVmas of [2147483000, LARGEST]) {
      const answer = await whatIf({ text: IMBALANCE_TEXT }, { maxMapCount: LARGEST, baselineVmas });
      for (const [i, row] of answer.rows.entries()) {
        expect(row.peakStacks, row.label).toBe(at0.rows[i]!.peakStacks);
        expect(row.peakStacks, row.label).toBeGreaterThan(1000);
        expect(row.peakVmas, row.label).toBe(baselineVmas + 2 * row.peakStacks);
        expect(row.mappedAtEnd, row.label).toBe(at0.rows[i]!.mappedAtEnd);
      }
    }
  });

  it("--baseline-vmas 2147483647: every policy aborts at the first stack, and no limit is safe", async () => {
    const answer = await whatIf({ text: IMBALANCE_TEXT }, { maxMapCount: 65530, baselineVmas: LARGEST });
    const firstCreate = IMBALANCE_TEXT.split("\n").findIndex((l) => l.startsWith("create")) + 1;
    for (const row of answer.rows) {
      expect(row.abort, row.label).toMatchObject({ line: firstCreate, error: "failed to allocate memory for stack" });
      expect(row.smallestSafeMaxMapCount, row.label).toBeNull();
      expect(row.noSafeMaxMapCount, row.label).toBe(true);
    }
    const text = formatWhatIf(document(answer));
    expect(text).toContain("the baseline alone (2147483647 VMAs) is over max_map_count 65530: the first stack aborts");
    expect(text).toMatch(/^legacy .* none up to 2147483647 /m);
  });

  it("--baseline-vmas 2147483000 --max-map-count 2147483647: aborts where the limited replay aborts (the 324th stack's guard page)", async () => {
    const answer = await whatIf({ text: IMBALANCE_TEXT }, { maxMapCount: LARGEST, baselineVmas: 2147483000 });
    const trace = parseTrace(IMBALANCE_TEXT);
    for (const row of answer.rows) {
      const limited = replayTrace(trace, { policy: row.policy, maxMapCount: LARGEST, baselineVmas: 2147483000, uncapped: row.uncapped });
      expect(limited.result.failure, row.label).toEqual({ line: row.abort!.line, error: "failed to set up stack guard page" });
      // 647 VMAs of room: 323 stacks, then the 324th's guard page.
      expect(limited.result.vmas.final, row.label).toBe(LARGEST);
      expect(row.noSafeMaxMapCount, row.label).toBe(true);
    }
  });

  it("the smallest safe limit is one the run fits under: 2^31 - 1 exactly when the peak just fits, none one VMA later", async () => {
    const at0 = await whatIf({ text: IMBALANCE_TEXT }, { maxMapCount: 65530, baselineVmas: 0, policies: [{ policy: "none" }, { policy: "legacy" }] });
    for (const [i, policy] of (["none", "legacy"] as const).entries()) {
      const fits = LARGEST - at0.rows[i]!.peakVmas;
      const [exact] = (await whatIf({ text: IMBALANCE_TEXT }, { maxMapCount: LARGEST, baselineVmas: fits, policies: [{ policy }] })).rows;
      expect(exact!.smallestSafeMaxMapCount).toBe(LARGEST);
      expect(exact!.abort).toBeNull();
      const [over] = (await whatIf({ text: IMBALANCE_TEXT }, { maxMapCount: LARGEST, baselineVmas: fits + 1, policies: [{ policy }] })).rows;
      expect(over!.smallestSafeMaxMapCount).toBeNull();
      expect(over!.noSafeMaxMapCount).toBe(true);
      expect(over!.abort).not.toBeNull();
    }
  });

  it("a log with no coroutine events says so, in the text, the JSON and the page; its safe limit is its baseline", async () => {
    const answer = await whatIf({ text: "threads 2\ninc 5\n" }, { maxMapCount: 500, baselineVmas: 1000 });
    const doc = document(answer);
    expectValidDocument(doc);
    expect(doc.input.hasCoroutineEvents).toBe(false);
    for (const row of doc.rows) {
      expect(row.peakStacks).toBe(0);
      expect(row.abort).toBeNull();
      expect(row.smallestSafeMaxMapCount, row.label).toBe(1000);
    }
    const notes = ["test has no coroutine events: no coroutine starts, so no policy maps a stack", "the baseline alone (1000 VMAs) is over max_map_count 500: no stack would fit"];
    const text = formatWhatIf(doc);
    const page = renderReportHtml(doc);
    for (const note of notes) {
      expect(text).toContain(note);
      expect(page).toContain(note);
    }
    const withEvents = document(await whatIf({ text: IMBALANCE_TEXT }, { maxMapCount: 65530, baselineVmas: 100 }));
    expect(withEvents.input.hasCoroutineEvents).toBe(true);
    expect(formatWhatIf(withEvents)).not.toContain("no coroutine events");
  });
});

/** A gzip log of about 300 MB inflated in 1 MB: one member repeated (gzip allows that). */
function hugeLog(name: string): string {
  const path = join(dir, name);
  const member = gzipSync(Buffer.from(qemuLog(10_000)));
  writeFileSync(path, Buffer.concat(Array.from({ length: 400 }, () => member)));
  return path;
}

/** Waits (bounded) until process `pid` has read part of `file`: an open descriptor of it whose offset is past 0. */
async function untilReading(pid: number, file: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        if (readlinkOrEmpty(`/proc/${pid}/fd/${fd}`) === file && /^pos:\s*[1-9]/m.test(readFileSync(`/proc/${pid}/fdinfo/${fd}`, "utf8"))) return;
      }
    } catch {
      // the process is not there yet, or the descriptor just closed
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`process ${pid} never read ${file}`);
}

function readlinkOrEmpty(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return "";
  }
}

describe("whatif stopped by a signal", () => {
  it("SIGINT: the answer for the lines read so far, the JSON and the page marked interrupted, exit 130", async () => {
    const log = hugeLog("huge.log.gz");
    const page = join(dir, "interrupted.html");
    const child = spawn(process.execPath, [CLI, "whatif", log, "--max-map-count", "65530", "--baseline-vmas", "100", "--json", "--report", page], { cwd: ROOT });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const closed = new Promise<number | null>((resolve) => child.on("close", resolve));
    await untilReading(child.pid!, log);
    child.kill("SIGINT");
    expect(await closed).toBe(130);
    const doc = JSON.parse(stdout) as WhatIfDocument;
    expectValidDocument(doc);
    expect(doc.interrupted).toBe(true);
    expect(doc.input.lines).toBeGreaterThan(0);
    expect(doc.input.lines).toBeLessThan(400 * 80_000);
    // The log repeats one block: the lines read so far peak as the whole log does.
    const whole = document(await whatIf({ text: qemuLog(1_000) }, { maxMapCount: 65530, baselineVmas: 100 }));
    expect(doc.rows.map((r) => r.peakStacks)).toEqual(whole.rows.map((r) => r.peakStacks));
    // A capped policy's exact search needs another pass over the log: not sought after a stop.
    const capped = doc.rows.find((r) => r.label === "batched")!;
    expect([capped.smallestSafeMaxMapCount, capped.noSafeMaxMapCount]).toEqual([null, false]);
    expect(stderr).toBe("coropool: interrupted by SIGINT: the results so far are printed, the report marked interrupted\n");
    const html = readFileSync(page, "utf8");
    expect(html).toContain('data-interrupted="true"');
    expect(html).toContain(`interrupted after line ${doc.input.lines}: the answer is that of the lines read so far`);
  }, 40_000);
});

describe("whatif and import tell their progress: (bytes read, file size) after each chunk", () => {
  const log = join(dir, "progress.log");
  writeFileSync(log, qemuLog(4_000)); // about 2.3 MB: several chunks of 512 KiB
  const size = statSync(log).size;

  function expectGrowing(calls: [number, number | undefined][]): void {
    expect(calls.length).toBeGreaterThanOrEqual(4);
    for (let i = 1; i < calls.length; i++) expect(calls[i]![0]).toBeGreaterThanOrEqual(calls[i - 1]![0]);
    expect(calls[0]![0]).toBeLessThan(size);
    expect(calls.at(-1)![0]).toBe(size);
    expect(new Set(calls.map((c) => c[1]))).toEqual(new Set([size]));
  }

  it("whatIf: each pass over the input, named", async () => {
    const calls: [number, number | undefined, string][] = [];
    await whatIf({ path: log }, { maxMapCount: 65530, baselineVmas: 100, policies: [{ policy: "legacy" }], onProgress: (done, total, step) => calls.push([done, total, step]) });
    expectGrowing(calls.map(([d, t]) => [d, t]));
    expect(new Set(calls.map((c) => c[2]))).toEqual(new Set(["whatif: reading"]));
  });

  it("importQemuLog", async () => {
    const calls: [number, number | undefined][] = [];
    await importQemuLog({ path: log }, join(dir, "progress.trace"), { onProgress: (done, total) => calls.push([done, total]) });
    expectGrowing(calls);
  });

  it("lines given one by one: counted, with no total", async () => {
    const calls: [number, number | undefined][] = [];
    await importQemuLog({ lines: qemuLog(20_000).split("\n") }, join(dir, "lines.trace"), { onProgress: (done, total) => calls.push([done, total]) });
    expect(calls.map((c) => c[0])).toEqual([65536, 131072, 160001]);
    expect(calls.every((c) => c[1] === undefined)).toBe(true);
  });
});

describe("scenario files: what a user trips on", () => {
  it("a byte-order mark in front is accepted", () => {
    const text = JSON.stringify({ kind: "imbalance", threads: 2, burst: 100, rounds: 1, inFlight: 20, maxMapCount: 100000 });
    expect(parseScenario(`\ufeff${text}`, "bom.json")).toEqual(parseScenario(text, "plain.json"));
  });

  it('module "." names the folder it is, not "nothing"', () => {
    const folder = join(dir, "dot");
    mkdirSync(folder);
    const file = join(folder, "s.json");
    writeFileSync(file, JSON.stringify({ kind: "custom", module: "." }));
    expect(() => loadScenarioFile(file)).toThrow(`${file}: module: "." is not allowed; allowed: the path of an existing module file, relative to the scenario file (${folder} is a folder, not a module file)`);
  });
});
