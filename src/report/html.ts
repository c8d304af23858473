/**
 * The HTML report: one self-contained page drawn from a result document (the
 * very JSON that --json prints), with inline SVG charts, inline CSS, no
 * script and a Content-Security-Policy that forbids every fetch — so it opens
 * anywhere, offline, and shows the same thing every time.
 *
 * What it shows, per command:
 *   stress, run (vma-exhaustion)  VMAs over time per policy (limit line, abort
 *                                 marked), pooled stacks per thread over time
 *   imbalance                     the same two pictures, plus stranded stacks,
 *                                 max/mean and Gini
 *   randread                      IOPS against iodepth per policy, one chart
 *                                 per block size; latency percentiles
 *   run (custom)                  VMAs and pooled stacks over time
 *   run (burst-idle)              stacks still mapped over time per policy
 *                                 (the working-set bound as a rule), pooled
 *                                 stacks per thread over time
 *   demo                          the stress, imbalance, randread and
 *                                 burst-idle sections
 * and always the run's parameters (scenario) and the machine.
 */
import { formatByteSize } from "../byte-size.js";
import type { BurstIdleReport } from "../experiments/burst-idle.js";
import type { CustomReport } from "../experiments/custom.js";
import type { ImbalanceReport } from "../experiments/imbalance.js";
import type { RandreadReport } from "../experiments/randread.js";
import type { RealAbortReport } from "../experiments/real-abort.js";
import type { StressReport } from "../experiments/stress.js";
import type { RunResult } from "../runtime/result.js";
import { GLOBAL_POOL_COLOR, LIMIT_COLOR, policyHtmlColor, THREAD_COLORS } from "./colors.js";
import type { ResultDocument } from "./document.js";
import { escapeHtml } from "./html-escape.js";
import { htmlTable, paragraph, section, tableHtml } from "./html-parts.js";
import type { MachineInfo } from "./machine.js";
import { randreadTables } from "./randread-table.js";
import {
  burstIdleTable,
  burstIdleThreadNames,
  childrenTable,
  customTable,
  customThreadNames,
  imbalanceTable,
  imbalanceThreadNames,
  stressTable,
} from "./run-tables.js";
import { quietStartMs } from "./series.js";
import { renderLineChart, type LineSeries, type Marker } from "./svg.js";
import type { Table } from "./table.js";
import { whatIfBody } from "./whatif-html.js";
import { planBody } from "./plan-html.js";

export function renderReportHtml(doc: ResultDocument): string {
  const title = `coropool ${doc.command} report`;
  let body: string;
  switch (doc.command) {
    case "demo":
      body = [
        section("stress", "1. The seed's bug report: VMA exhaustion", stressBody(doc.stress)),
        section("imbalance", "2. Imbalance: one thread bursts, then goes quiet", imbalanceBody(doc.imbalance)),
        section("randread", "3. randread: OLD (legacy) against NEW (batched)", randreadBody(doc.randread)),
        ...(doc.burstIdle ? [section("burst-idle", "4. Beyond 9.0: a burst, a quiet period, and what stays mapped", burstIdleBody(doc.burstIdle))] : []),
      ].join("");
      break;
    case "stress":
      body = "children" in doc ? section("stress", "VMA exhaustion with real stacks", kernelStressBody(doc)) : section("stress", "VMA exhaustion", stressBody(doc));
      break;
    case "imbalance":
      body = section("imbalance", "Imbalance", imbalanceBody(doc));
      break;
    case "randread":
      body = section("randread", "randread", randreadBody(doc));
      break;
    case "run":
      body = section("custom", "Custom workload", customBody(doc));
      break;
    case "whatif":
      body = section("whatif", "What if: this log under each pool policy", whatIfBody(doc));
      break;
    case "burst-idle":
      body = section("burst-idle", "Burst, then idle", burstIdleBody(doc));
      break;
    case "plan":
      body = section("plan", "Plan: this VM's worst case under each pool policy", planBody(doc));
      break;
  }
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body data-command="${escapeHtml(doc.command)}" data-schema-version="${doc.schemaVersion}">
<header><h1>${escapeHtml(title)}</h1>
<p class="meta">Generated ${escapeHtml(doc.machine.generatedAt)} on ${escapeHtml(doc.machine.cpuModel)} (${doc.machine.cores} cores), Node.js ${escapeHtml(doc.machine.nodeVersion)}. Result schema version ${doc.schemaVersion}.</p>${doc.interrupted ? INTERRUPTED_NOTE : ""}</header>
<main>
${body}
${section("machine", "Machine", machineTable(doc.machine))}
</main>
</body>
</html>
`;
}

/** An interrupted command's page says so first: its runs are those done before the signal. */
const INTERRUPTED_NOTE = `<p class="interrupted" data-interrupted="true"><strong>Interrupted:</strong> a signal stopped this command before it finished; the results are those of the runs done so far.</p>`;

// ---- per command ----------------------------------------------------------

function stressBody(report: StressReport): string {
  const { scenario, runs, threadNames } = report;
  const devices = scenario.guest.devices.map((d) => `${d.name} ${d.numQueues}×${d.queueSize}`).join(", ");
  const intro = `${scenario.guest.iothreads} IOThreads${scenario.guest.mainLoop ? " + main loop" : ""}, devices ${devices}, ${scenario.rounds} rounds, seed ${scenario.seed}.`;
  return runsBody(scenario.description, intro, runs, stressTable(report), threadNames, report.scenarioFile, scenario);
}

/** A page for runs with time series: the summary table and its notes, VMAs and pooled stacks over time, parameters. */
function runsBody(description: string, intro: string, runs: RunResult[], table: Table, threadNames: string[], file: string, scenario: object): string {
  return [
    paragraph(description),
    paragraph(intro),
    tableHtml(table),
    vmaChart(runs),
    pooledCharts(runs, threadNames),
    parameters(file, scenario),
  ].join("");
}

/** stress --backend kernel: how each policy's child process ended at the host's real limit. */
function kernelStressBody(report: RealAbortReport): string {
  return [
    paragraph(`Every stack a real mmap + mprotect; each policy in its own child process at this host's vm.max_map_count ${report.hostMaxMapCount}. A child that runs out dies as QEMU does; no time series is kept.`),
    tableHtml(childrenTable(report)),
    parameters(report.scenarioFile, report.scenario),
  ].join("");
}

function imbalanceBody(report: ImbalanceReport): string {
  const { scenario, runs } = report;
  const intro = `${scenario.threads} threads; T${scenario.burstThread} has ${scenario.burst} coroutines in flight at once, then goes quiet while the others run ${scenario.rounds} rounds of ${scenario.inFlight}.`;
  return runsBody(scenario.description, intro, runs, imbalanceTable(report), imbalanceThreadNames(report), report.scenarioFile, scenario);
}

function randreadBody(report: RandreadReport): string {
  const { scenario, policies, cells } = report;
  const charts = scenario.blockSizes.map((blockSize) => {
    const series: LineSeries[] = policies.map((policy, i) => ({
      id: policy,
      label: policy,
      color: policyHtmlColor(policy, i),
      dots: true,
      points: cells
        .filter((c) => c.policy === policy && c.blockSize === blockSize)
        .sort((a, b) => a.iodepth - b.iodepth)
        .map((c) => ({ x: c.iodepth, y: c.figures.iops })),
    }));
    return renderLineChart({
      attrs: { "data-chart": "iops", "data-block-size": formatByteSize(blockSize) },
      title: `randread ${formatByteSize(blockSize)}: IOPS against iodepth`,
      xLabel: "iodepth (requests in flight per IOThread)",
      yLabel: "IOPS",
      xScale: "log2",
      xTicks: [...scenario.iodepths].sort((a, b) => a - b),
      series,
    });
  });
  const { iops, latency, legend } = randreadTables(report);
  const device = `Device model: ${scenario.device.latencyUs} µs latency + size at ${scenario.device.bandwidthMBps} MB/s, polled by ${scenario.threads} IOThread(s); ${scenario.durationMs} ms per cell. Every request is one coroutine (create, submit, yield, completion re-enters, terminate).`;
  return [
    paragraph(scenario.description),
    paragraph(device),
    charts.join(""),
    `<h3>IOPS</h3>`,
    tableHtml(iops),
    paragraph(legend),
    `<h3>Completion latency (µs)</h3>`,
    paragraph("Percentiles from an HDR histogram at 3 significant digits (each at most 0.1% above the true sample); with several IOThreads, over all their requests (the threads' histograms merged)."),
    tableHtml(latency),
    parameters(report.scenarioFile, scenario),
  ].join("");
}

function customBody(report: CustomReport): string {
  const { scenario, runs } = report;
  const threadNames = customThreadNames(report);
  return [
    paragraph(`${scenario.module} on ${scenario.threads} thread(s).`),
    tableHtml(customTable(report)),
    vmaChart(runs),
    pooledCharts(runs, threadNames),
    parameters(report.scenarioFile, scenario),
  ].join("");
}

function burstIdleBody(report: BurstIdleReport): string {
  const { scenario, runs } = report;
  const threadNames = burstIdleThreadNames(report);
  const intro =
    `${scenario.threads} threads; T0–T${scenario.burstThreads - 1} have ${scenario.bursts} bursts of ${scenario.burst} coroutines in flight, ` +
    `then every thread is quiet for ${scenario.quietMs} ms, then the others run ${scenario.rounds} rounds of ${scenario.inFlight}.`;
  return [
    paragraph(scenario.description),
    paragraph(intro),
    tableHtml(burstIdleTable(report)),
    retainedChart(runs, runs[0]?.burstIdle.workingSetBound),
    pooledCharts(runs, threadNames),
    parameters(report.scenarioFile, scenario),
  ].join("");
}

// ---- charts ---------------------------------------------------------------

/** Stacks mapped over time (VMAs above the baseline, halved), one line per policy; `bound` as a rule. */
function retainedChart(runs: RunResult[], bound: number | undefined): string {
  const series: LineSeries[] = runs.map((r, i) => ({
    id: r.policy,
    label: r.policy,
    color: policyHtmlColor(r.policy, i),
    points: r.samples.map((s) => ({ x: s.tMs, y: Math.max(0, Math.floor((s.vmas - r.vmas.baseline) / 2)) })),
  }));
  return renderLineChart({
    attrs: { "data-chart": "retained" },
    title: "Stacks still mapped over time",
    xLabel: "time since the run started (ms)",
    yLabel: "stacks mapped",
    series,
    lines: bound === undefined ? [] : [{ y: bound, label: `(2 × threads + 1) batches = ${bound}`, color: LIMIT_COLOR, attrs: { "data-bound": String(bound) } }],
    note: "VMAs above the process's baseline, two per stack. A pool that gives idle stacks back falls during the quiet period.",
  });
}

/** VMAs over time, one line per policy; the limit as a dashed rule; each abort as a cross. */
function vmaChart(runs: RunResult[]): string {
  const series: LineSeries[] = runs.map((r, i) => ({
    id: r.policy,
    label: r.policy,
    color: policyHtmlColor(r.policy, i),
    points: r.samples.map((s) => ({ x: s.tMs, y: s.vmas })),
  }));
  const limits = [...new Set(runs.map((r) => r.vmas.limit))];
  const markers: Marker[] = runs.flatMap((r, i) => (r.abort ? [abortMarker(r, i)] : []));
  const from = quietStartMs(runs);
  const notes = [
    ...(from === undefined ? [] : [`The first ${Math.round(from)} ms (worker threads starting, no stack yet) are left out.`]),
    ...(markers.length > 0 ? ["× marks the abort: its VMA count and time as the failing thread recorded them."] : []),
  ];
  return renderLineChart({
    xMin: from,
    attrs: { "data-chart": "vmas" },
    title: "VMAs over time",
    xLabel: "time since the run started (ms)",
    yLabel: "VMAs",
    series,
    lines: limits.map((limit) => ({ y: limit, label: `VMA limit ${limit}`, color: LIMIT_COLOR, attrs: { "data-limit": String(limit) } })),
    markers,
    note: notes.length > 0 ? notes.join(" ") : undefined,
  });
}

/** The abort, where and when the failing thread recorded it (the samples' time axis). */
function abortMarker(r: RunResult, index: number): Marker {
  const abort = r.abort!;
  return {
    x: abort.tMs,
    y: abort.vmas,
    label: `${r.policy} aborted: ${abort.message}`,
    color: policyHtmlColor(r.policy, index),
    attrs: { "data-abort": r.policy },
  };
}

/** One chart per policy: each thread's local pool over time, and the shared pool dashed. */
function pooledCharts(runs: RunResult[], threadNames: string[]): string {
  const from = quietStartMs(runs);
  return runs
    .map((r) => {
      const series: LineSeries[] = Array.from({ length: r.threads }, (_, t) => ({
        id: `T${t}`,
        label: threadNames[t] ?? `T${t}`,
        color: THREAD_COLORS[t % THREAD_COLORS.length]!,
        points: r.samples.map((s) => ({ x: s.tMs, y: s.pooledThreads[t] ?? 0 })),
      }));
      series.push({
        id: "global",
        label: r.policy === "legacy" ? "release pool (global)" : "global pool",
        color: GLOBAL_POOL_COLOR,
        dashed: true,
        points: r.samples.map((s) => ({ x: s.tMs, y: s.pooledGlobal })),
      });
      return renderLineChart({
        xMin: from,
        note: from === undefined ? undefined : `From ${Math.round(from)} ms, when the first stack was mapped.`,
        attrs: { "data-chart": "pooled", "data-policy": r.policy },
        title: `${r.policy}: pooled stacks per thread over time`,
        xLabel: "time since the run started (ms)",
        yLabel: "stacks pooled",
        series,
      });
    })
    .join("");
}

// ---- tables ---------------------------------------------------------------

function parameters(file: string, scenario: object): string {
  const rows = [["scenario file", file], ...flatten(scenario, "")];
  return `<details class="parameters" open><summary>Parameters</summary>${htmlTable(["parameter", "value"], rows, "parameters", false)}</details>`;
}

function machineTable(m: MachineInfo): string {
  const rows: string[][] = [
    ["CPU", m.cpuModel],
    ["cores", String(m.cores)],
    ["memory", `${(m.totalMemoryBytes / 2 ** 30).toFixed(1)} GiB`],
    ["OS", `${m.platform} ${m.osRelease} (${m.arch})`],
    ["Node.js", m.nodeVersion],
    ["host vm.max_map_count", `${m.hostMaxMapCount} (${m.hostMaxMapCountSource})`],
    ["generated", m.generatedAt],
  ];
  return htmlTable(["", ""], rows, "machine", false);
}

/** {guest: {devices: [{name: "disk0"}]}} → [["guest.devices[0].name", "disk0"]]; lists of numbers stay on one line. */
export function flatten(value: unknown, prefix: string): string[][] {
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== "object")) return [[prefix, value.join(", ")]];
    return value.flatMap((v, i) => flatten(v, `${prefix}[${i}]`));
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return [[prefix, "{}"]];
    return entries.flatMap(([k, v]) => flatten(v, prefix === "" ? k : `${prefix}.${k}`));
  }
  return [[prefix, value === null ? "null" : String(value)]];
}

const STYLE = `
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #1b1b1b; background: #fafafa; }
header, main { max-width: 1000px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 16px; }
h1 { font-size: 22px; margin: 8px 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
.meta, .note { color: #555; font-size: 13px; }
section { margin-bottom: 24px; }
table { border-collapse: collapse; margin: 8px 0 12px; background: #fff; }
th, td { padding: 3px 10px; border-bottom: 1px solid #e4e4e4; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f0f0f0; font-weight: 600; }
figure.chart { margin: 14px 0; background: #fff; border: 1px solid #e2e2e2; padding: 8px 10px; max-width: 780px; }
figure.chart svg { max-width: 100%; height: auto; display: block; }
figcaption { font-weight: 600; margin-bottom: 4px; }
svg .grid { stroke: #ececec; }
svg .axis, svg .tickmark { stroke: #888; }
svg .tick { font-size: 11px; fill: #555; }
svg .label { font-size: 12px; fill: #333; }
svg .line-label, svg .marker-label { font-size: 12px; font-weight: 600; }
ul.legend { list-style: none; padding: 0; margin: 4px 0 0; display: flex; flex-wrap: wrap; gap: 4px 16px; font-size: 12px; }
ul.legend .swatch { display: inline-block; width: 18px; height: 0; border-top: 3px solid; vertical-align: middle; margin-right: 5px; }
ul.legend .swatch.dashed { border-top-style: dashed; }
ul.notes li { margin: 2px 0; white-space: pre-wrap; }
details.parameters summary { cursor: pointer; font-weight: 600; margin-top: 8px; }
`;
