/**
 * The report's pieces without a browser: the SVG chart (series, thinning,
 * ticks), escaping, the terminal chart, and the CLI's handling of report
 * paths and saved results (exit 2 with one line, atomic writes).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { InputError } from "../src/errors.js";
import { formatByteSize } from "../src/byte-size.js";
import { POLICY_NAMES } from "../src/pools/index.js";
import { escapeHtml } from "../src/report/html-escape.js";
import { flatten, renderReportHtml } from "../src/report/html.js";
import type { ResultDocument } from "../src/report/document.js";
import { machineInfo } from "../src/report/machine.js";
import { renderResultDocument } from "../src/report/render.js";
import { quietStartMs } from "../src/report/series.js";
import { niceTicks, renderLineChart, thin, type Point } from "../src/report/svg.js";
import { vmaChartText } from "../src/report/terminal-chart.js";
import { formatRandreadReport } from "../src/report/text.js";
import type { RunResult } from "../src/runtime/result.js";
import { ROOT, runCli } from "./helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "coropool-report-"));

describe("renderLineChart", () => {
  const series = (id: string, n: number) => ({ id, label: id, color: "#000", points: Array.from({ length: n }, (_, i) => ({ x: i, y: i % 7 })) });

  it("draws one <g data-series> per series, with its point count, and the limit line and marker with their attributes", () => {
    const svg = renderLineChart({
      attrs: { "data-chart": "vmas" },
      title: "VMAs over time",
      xLabel: "ms",
      yLabel: "VMAs",
      series: [series("legacy", 10), series("batched", 0)],
      lines: [{ y: 100, label: "VMA limit 100", color: "#111", attrs: { "data-limit": "100" } }],
      markers: [{ x: 3, y: 100, label: "legacy aborted", color: "#c00", attrs: { "data-abort": "legacy" } }],
    });
    expect(svg.match(/data-series="/g)).toHaveLength(2);
    expect(svg).toContain('data-series="legacy" data-points="10"');
    expect(svg).toContain('data-series="batched" data-points="0"');
    expect(svg).toContain('data-chart="vmas"');
    expect(svg).toContain('data-limit="100"');
    expect(svg).toContain('data-abort="legacy"');
    expect(svg).not.toMatch(/NaN|undefined|Infinity/);
  });

  it("thins a long series to at most the given points, keeping each stretch's low and high (the peak survives)", () => {
    const points: Point[] = Array.from({ length: 10_000 }, (_, i) => ({ x: i, y: i === 6_543 ? 1_000_000 : i % 10 }));
    const kept = thin(points, 800);
    expect(kept.length).toBeLessThanOrEqual(800);
    expect(kept.some((p) => p.y === 1_000_000)).toBe(true);
    expect(kept.every((p, i) => i === 0 || p.x > kept[i - 1]!.x)).toBe(true);
    expect(thin(points.slice(0, 50), 800)).toHaveLength(50);
  });

  it("puts ticks on round numbers covering the range", () => {
    expect(niceTicks(0, 65530 * 1.05, 6)).toEqual([0, 20000, 40000, 60000, 80000]); // a step of 11,468 rounds up to 20,000
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
  });

  it("escapes every text it is given", () => {
    expect(escapeHtml(`<script>alert("x")</script> & 'y'`)).toBe("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;");
    const svg = renderLineChart({ attrs: { "data-chart": "x" }, title: "<b>", xLabel: "", yLabel: "", series: [{ ...series("<i>", 2), label: "<i>" }] });
    expect(svg).not.toContain("<b>");
    expect(svg).not.toContain("<i>");
  });

  it("flattens a scenario into parameter rows", () => {
    expect(flatten({ guest: { devices: [{ name: "disk0", iothreads: [0, 1] }] }, maxMapCount: null }, "")).toEqual([
      ["guest.devices[0].name", "disk0"],
      ["guest.devices[0].iothreads", "0, 1"],
      ["maxMapCount", "null"],
    ]);
  });
});

describe("renderReportHtml", () => {
  it("draws stress --backend kernel's document (no time series) as a table of how each child ended", () => {
    const doc = {
      schemaVersion: 1,
      command: "stress",
      machine: machineInfo(new Date(0)),
      backend: "kernel",
      scenarioFile: "scenarios/bug-report.json",
      scenario: { kind: "vma-exhaustion", description: "d", guest: { iothreads: 1, mainLoop: false, devices: [] }, rounds: 1, inFlight: { min: 0.5, max: 0.75 }, mainLoopInFlight: 0, maxMapCount: null, seed: 1 },
      hostMaxMapCount: 65530,
      children: [
        { policy: "legacy", outcome: { kind: "qemu-abort", message: "failed to allocate memory for stack", detail: "mmap: ENOMEM", signal: "SIGABRT" }, lastVmas: 65500, realVmasAtDeath: 65530, durationMs: 4200 },
        { policy: "none", outcome: { kind: "died", signal: "SIGTRAP", exitCode: null, lastWords: ["<fatal>"] }, lastVmas: 65000, realVmasAtDeath: null, durationMs: 3000 },
      ],
    } as unknown as ResultDocument;
    const html = renderReportHtml(doc);
    expect(html).toContain('data-table="children"');
    expect(html).toContain("aborted: failed to allocate memory for stack (mmap: ENOMEM), SIGABRT");
    expect(html).toContain("&lt;fatal&gt;");
    expect(html).toContain("1970-01-01T00:00:00.000Z");
    expect(html).not.toMatch(/NaN|undefined/);
  });
});

/**
 * A randread document by hand: one IOThread, 4 KiB and 1 GiB blocks at
 * iodepth 1, each policy's cell measured unless `aborted` names it (its
 * 1 GiB cell then ends as QEMU's abort).
 */
function randreadDoc(policies: string[], aborted: string[] = []): ResultDocument {
  const GIB = 2 ** 30;
  const cell = (policy: string, blockSize: number, i: number) => {
    const abort = blockSize === GIB && aborted.includes(policy) ? { message: "failed to allocate memory for stack", thread: 0, vmas: 500 } : null;
    return {
      policy,
      blockSize,
      iodepth: 1,
      figures: { iops: abort ? 0 : 1000 + i, completed: abort ? 0 : 50, latencyUs: { p50: 10, p90: 20, p99: 30, p999: 40 } },
      run: { abort, interrupted: false, deadThreads: [], vmas: { limit: 500 } },
    };
  };
  return {
    schemaVersion: 1,
    command: "randread",
    machine: machineInfo(new Date(0)),
    scenarioFile: "randread.json",
    scenario: { kind: "randread", description: "d", threads: 1, blockSizes: [4096, GIB], iodepths: [1], durationMs: 10, device: { latencyUs: 7, bandwidthMBps: 2300 }, seed: 1 },
    policies,
    cells: [4096, GIB].flatMap((bs) => policies.map((p, i) => cell(p, bs, i))),
  } as unknown as ResultDocument;
}

describe("the text and HTML reports show the same tables", () => {
  it("randread: a cell whose run aborted says so in the table and on a note under it, on the page as in the terminal", () => {
    const doc = randreadDoc(["legacy", "batched"], ["legacy"]);
    const note = "legacy 1g iodepth 1: ABORTED: failed to allocate memory for stack (T0, VMAs 500 of 500)";
    expect(formatRandreadReport(doc as never).split("\n")).toContain(note);
    const html = renderReportHtml(doc);
    expect(html).toContain(`<ul class="notes" data-notes="iops"><li>${escapeHtml(note)}</li></ul>`);
    expect(html).toContain("<td>0 (aborted)</td>");
    // CHANGE is n/a where a cell did not measure, as in the terminal.
    expect(html).toMatch(/<td>1g<\/td><td class="num">1<\/td><td>0 \(aborted\)<\/td><td class="num">1001<\/td><td>n\/a<\/td>/);
  });

  it("writes 1 GiB as 1g wherever a size is shown, never 1024m", () => {
    expect(formatByteSize(2 ** 30)).toBe("1g");
    expect(formatByteSize(3 * 2 ** 29)).toBe("1536m");
    const html = renderReportHtml(randreadDoc(["legacy", "batched"]));
    expect(html).toContain('data-block-size="1g"');
    expect(html).toContain("randread 1g: IOPS against iodepth");
    expect(html).not.toContain("1024m");
  });

  it("gives every policy of the registry its own colour, the same wherever it stands among the runs, on the page and in the terminal", () => {
    const terminalColor = (runs: string[], policy: string) => {
      const text = vmaChartText(runs.map((p) => run(p)), { width: 10, height: 3 });
      return new RegExp(`${policy}\\x1b\\[0m \\((\\w+)\\)`).exec(text)?.[1];
    };
    const htmlColor = (policies: string[], policy: string) =>
      new RegExp(`data-series="${policy}" data-points="1"><title>${policy}</title><path [^>]*stroke="(#[0-9a-f]{6})"`).exec(renderReportHtml(randreadDoc(policies)))?.[1];
    const seen = { terminal: new Set<string>(), html: new Set<string>() };
    for (const policy of POLICY_NAMES) {
      const others = POLICY_NAMES.filter((p) => p !== policy);
      const terminal = terminalColor([policy], policy);
      const html = htmlColor([policy], policy);
      expect(terminal, policy).toBeDefined();
      expect(html, policy).toBeDefined();
      // Second, third … among the runs: a colour by place would change.
      for (let place = 1; place <= others.length; place++) {
        const runs = [...others.slice(0, place), policy];
        expect(terminalColor(runs, policy), `${policy} at ${place}`).toBe(terminal);
        expect(htmlColor(runs, policy), `${policy} at ${place}`).toBe(html);
      }
      seen.terminal.add(terminal!);
      seen.html.add(html!);
    }
    expect(seen.terminal.size).toBe(POLICY_NAMES.length);
    expect(seen.html.size).toBe(POLICY_NAMES.length);

    function run(policy: string): RunResult {
      const samples = [40, 400].map((vmas, i) => ({ tMs: i * 10, vmas, pooledGlobal: 0, pooledThreads: [], liveThreads: [] }));
      return { policy, vmas: { limit: 1000, peak: 400 }, abort: null, samples } as unknown as RunResult;
    }
  });
});

describe("renderResultDocument (the library's renderReport): a result document, or one InputError line", () => {
  let valid: Record<string, unknown>;
  beforeAll(() => {
    // legacy aborts at the scenario's limit (exit 3): a result all the same.
    const r = runCli(["stress", "--scenario", "stress-small", "--policy", "legacy", "--json"]);
    expect(r.code, r.stderr).toBe(3);
    valid = JSON.parse(r.stdout);
  }, 60_000);

  /** The InputError `value` is refused with: its code and its one line. */
  function refusal(value: unknown): { code: string; message: string } {
    try {
      renderResultDocument(value);
    } catch (err) {
      expect(err).toBeInstanceOf(InputError);
      const { code, message } = err as InputError;
      expect(message.split("\n")).toHaveLength(1);
      return { code, message };
    }
    throw new Error("rendered what it should refuse");
  }
  const ALLOWED = "allowed: a result document of schemaVersion 1, as a command's --json writes it";

  it("renders a valid document: the page renderReportHtml draws", () => {
    expect(renderResultDocument(valid)).toBe(renderReportHtml(valid as unknown as ResultDocument));
  });

  it("refuses what is no result document, saying what is allowed", () => {
    expect(refusal({})).toEqual({ code: "ERR_RESULT_FILE", message: expect.stringMatching(new RegExp(`^renderReport: no schemaVersion, so not a coropool result; ${ALLOWED}`)) });
    expect(refusal(null).message).toMatch(new RegExp(`^renderReport: null is not a coropool result; ${ALLOWED}`));
    expect(refusal("x").message).toMatch(new RegExp(`^renderReport: the string "x" is not a coropool result; ${ALLOWED}`));
    expect(refusal(undefined).message).toMatch(/^renderReport: undefined is not a coropool result/);
    expect(refusal([valid]).message).toMatch(/^renderReport: a replay result has no HTML report/);
  });

  it("refuses another schemaVersion, naming the one it reads", () => {
    expect(refusal({ ...valid, schemaVersion: 2 })).toEqual({
      code: "ERR_RESULT_VERSION",
      message: "renderReport: schemaVersion 2 is not supported; this coropool reads schemaVersion 1",
    });
    expect(refusal({ ...valid, command: "replay" }).message).toMatch(/^renderReport: command "replay" has no report; allowed: demo, stress, imbalance, randread, run, burst-idle, whatif, plan$/);
  });

  it("refuses a document its schema does not describe, naming the place (docs/result.schema.json)", () => {
    const runs = valid.runs as { vmas: Record<string, unknown> }[];
    const cut = { ...valid, runs: [{ ...runs[0], vmas: { ...runs[0]!.vmas, peak: undefined } }] };
    expect(refusal(JSON.parse(JSON.stringify(cut))).message).toBe(
      "renderReport: not a complete 'stress' result: runs[0].vmas: must have required property 'peak'; allowed: a complete 'stress' result, as 'coropool stress --json' writes it",
    );
    expect(refusal({ ...valid, machine: { ...(valid.machine as object), generatedAt: "yesterday" } }).message).toMatch(/: machine\.generatedAt: must match format "date-time"/);
    expect(refusal({ ...valid, extra: 1 }).message).toMatch(/: the document: must NOT have additional properties \('extra'\)/);
  });

  it("refuses a document the schema lets through but that cannot be drawn (a thread named with no figures)", () => {
    const named = { ...valid, threadNames: [...(valid.threadNames as string[]), "iothread99"] };
    expect(refusal(named).message).toMatch(/^renderReport: not a complete 'stress' result \(.+\); allowed: a complete 'stress' result, as 'coropool stress --json' writes it$/);
  });
});

describe("quietStartMs", () => {
  const samples = (idleUntil: number, end: number) =>
    Array.from({ length: end / 10 + 1 }, (_, i) => ({ tMs: i * 10, vmas: i * 10 <= idleUntil ? 40 : 500, pooledGlobal: 0, pooledThreads: [0], liveThreads: [0] }));
  const run = (idleUntil: number, end: number) => ({ samples: samples(idleUntil, end) }) as unknown as RunResult;

  it("is the last quiet sample, the earliest over the runs, when the quiet start is over a tenth of the run", () => {
    expect(quietStartMs([run(200, 300), run(150, 400)])).toBe(150);
  });

  it("is undefined when the runs start working at once, never work, or have no samples", () => {
    expect(quietStartMs([run(10, 300)])).toBeUndefined();
    expect(quietStartMs([run(1000, 300)])).toBeUndefined();
    expect(quietStartMs([{ samples: [] } as unknown as RunResult])).toBeUndefined();
  });
});

describe("vmaChartText (the demo's terminal picture)", () => {
  const run = (policy: string, vmas: number[], aborted: boolean) =>
    ({
      policy,
      vmas: { limit: 1000, peak: Math.max(...vmas) },
      abort: aborted ? { vmas: 1000 } : null,
      samples: vmas.map((v, i) => ({ tMs: i * 10, vmas: v, pooledGlobal: 0, pooledThreads: [], liveThreads: [] })),
    }) as unknown as RunResult;

  it("plots each policy on one time axis under the limit, as plain text when colour is off", () => {
    const text = vmaChartText([run("legacy", [40, 400, 800, 1000], true), run("batched", [40, 300, 600, 600, 600, 600, 500, 40], false)], { width: 40, height: 10, color: false });
    const lines = text.split("\n");
    expect(lines[0]).toBe("VMAs over time (limit 1000 at the top)");
    expect(lines).toHaveLength(1 + 11 + 2); // title, height+1 rows, time axis, legend
    expect(text).not.toContain("\x1b[");
    expect(lines.at(-1)).toContain("legacy: aborted at 1000 VMAs; batched: peak 600");
    expect(lines.at(-2)).toMatch(/0 ms\s+70 ms$/);
  });

  it("uses ANSI colours by default, and draws nothing without samples", () => {
    expect(vmaChartText([run("legacy", [1, 2], false)])).toContain("\x1b[31m");
    expect(vmaChartText([])).toBe("");
  });
});

describe("report paths and saved results on the command line", () => {
  it("refuses a bad --report path before running anything: exit 2, one line", () => {
    const file = join(dir, "a-file");
    writeFileSync(file, "x");
    for (const bad of [dir, join(file, "under-a-file.html"), ""]) {
      const r = runCli(["stress", "--scenario", join(ROOT, "scenarios", "stress-small.json"), "--report", bad]);
      expect(r.code, bad).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(/^coropool: (cannot write --report|bad value for --report)/);
    }
  });

  it("renders a saved result with 'coropool report', atomically (no temporary file left)", () => {
    const saved = join(dir, "imbalance.json");
    const scenario = join(dir, "imbalance-scenario.json");
    writeFileSync(scenario, JSON.stringify({ kind: "imbalance", threads: 2, burst: 100, rounds: 1, inFlight: 20, maxMapCount: 100000 }));
    const run = runCli(["imbalance", "--scenario", scenario, "--policy", "legacy", "--json"]);
    expect(run.code).toBe(0);
    writeFileSync(saved, run.stdout);
    const out = join(dir, "out", "imbalance.html");
    const r = runCli(["report", saved, "-o", out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(`report: ${out}`);
    const html = readFileSync(out, "utf8");
    expect(html).toContain('data-chart="vmas"');
    expect(html).toMatch(/<\/html>\n$/);
    expect(readdirSync(join(dir, "out"))).toEqual(["imbalance.html"]);
    // Without -o: beside the result, .json replaced by .html.
    expect(runCli(["report", saved]).code).toBe(0);
    expect(existsSync(join(dir, "imbalance.html"))).toBe(true);
  });

  it("refuses what it cannot render: exit 2 with one line naming the file and the reason", () => {
    const write = (name: string, text: string) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    };
    const replay = runCli(["replay", join(ROOT, "test", "fixtures", "oracle", "traces", "sample-01.trace"), "--policy", "legacy", "--json"]);
    const cases: [string, RegExp][] = [
      [join(dir, "missing.json"), /cannot read result .*ENOENT/],
      [write("not-json.json", "{"), /not valid JSON/],
      [write("replay.json", replay.stdout), /a replay result has no HTML report/],
      [write("v2.json", JSON.stringify({ schemaVersion: 2, command: "stress" })), /schemaVersion 2 is not supported; this coropool reads schemaVersion 1/],
      [write("other.json", JSON.stringify({ hello: 1 })), /no schemaVersion/],
      [write("cut.json", JSON.stringify({ schemaVersion: 1, command: "stress", machine: {} })), /not a complete 'stress' result/],
    ];
    for (const [file, message] of cases) {
      const r = runCli(["report", file, "-o", join(dir, "never.html")]);
      expect(r.code, file).toBe(2);
      expect(r.stderr, file).toMatch(message);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
    expect(existsSync(join(dir, "never.html"))).toBe(false);
  });
});
