/**
 * The what-if's HTML page body: the input, the table of policies, the
 * stacks mapped over time under each policy with the limit as a rule and
 * each abort marked, and each policy's pooled stacks per thread. Drawn from
 * the document alone (the series are in it), so `coropool report` renders a
 * saved what-if the same.
 *
 * The series are min/max buckets ([x, least, most, last]); each is drawn
 * through its whole range, so a spike inside a bucket still reaches its
 * height, and held at its last value until the next.
 */
import type { SeriesPoint } from "../replay/series.js";
import type { WhatIfRow } from "../replay/whatif.js";
import { GLOBAL_POOL_COLOR, LIMIT_COLOR, policyHtmlColor, THREAD_COLORS } from "./colors.js";
import { htmlTable, paragraph, tableHtml } from "./html-parts.js";
import { describeLogInput } from "./log-input-text.js";
import { renderLineChart, type LineSeries, type Marker, type Point } from "./svg.js";
import { stacksUnderLimit, whatIfNotes, type WhatIfReport } from "./whatif-document.js";
import { whatIfTable } from "./whatif-table.js";

export function whatIfBody(report: WhatIfReport): string {
  return [
    ...describeLogInput(report.source, report.input).map(paragraph),
    ...whatIfNotes(report).map(paragraph),
    paragraph(
      `Each policy replays the whole log with no VMA limit; "aborts" says where max_map_count ${report.maxMapCount} would have stopped it ` +
        `(QEMU aborts there), with ${report.baselineVmas} VMAs besides the stacks. The smallest safe max_map_count is exact: the least limit at which the replay completes.`,
    ),
    tableHtml(whatIfTable(report)),
    mappedChart(report),
    report.rows.map((row, i) => pooledChart(report, row, i)).join(""),
    htmlTable(["parameter", "value"], parameterRows(report), "parameters", false),
  ].join("");
}

/** What the mapped-stacks chart needs: a what-if's or a plan's rows, limit and axis. */
export type ChartedRows = Pick<WhatIfReport, "rows" | "maxMapCount" | "baselineVmas" | "axis">;

/** Stacks mapped (live + pooled) over the log, one line per policy; the stacks max_map_count allows as a rule. */
export function mappedChart(report: ChartedRows, xLabel = axisLabel(report)): string {
  // A policy shown twice (batched uncapped, then capped) keeps its colour; the second line is dashed.
  const seen = new Set<string>();
  const series: LineSeries[] = report.rows.map((row, i) => {
    const repeated = seen.has(row.policy);
    seen.add(row.policy);
    return { id: row.label, label: row.label, color: policyHtmlColor(row.policy, i), dashed: repeated, points: drawn(row.series.mapped) };
  });
  const limit = stacksUnderLimit(report);
  const markers: Marker[] = report.rows.flatMap((row, i) => (row.abort === null ? [] : [abortMarker(report, row, limit, policyHtmlColor(row.policy, i))]));
  return renderLineChart({
    attrs: { "data-chart": "mapped" },
    title: "Stacks mapped over the log, per policy",
    xLabel,
    yLabel: "stacks mapped (live + pooled)",
    series,
    lines: [{ y: limit, label: `max_map_count ${report.maxMapCount}: ${limit} stacks over ${report.baselineVmas} VMAs`, color: LIMIT_COLOR, attrs: { "data-limit": String(report.maxMapCount) } }],
    markers,
    note: markers.length > 0 ? "× marks where each policy would abort at this max_map_count (the list above says how); the line goes on as it would with more room." : undefined,
  });
}

function abortMarker(report: ChartedRows, row: WhatIfRow, limit: number, color: string): Marker {
  const abort = row.abort!;
  const x = report.axis === "seconds" ? (abort.seconds ?? 0) : abort.event;
  return { x, y: limit, label: row.label, color, attrs: { "data-abort": row.label } };
}

/** One policy's local pools, one line a thread, and the shared pool dashed. */
function pooledChart(report: WhatIfReport, row: WhatIfRow, index: number): string {
  const threadLabels = report.input.qemu?.threads ?? [];
  const series: LineSeries[] = row.series.pooledByThread.map((points, t) => ({
    id: `T${t}`,
    label: threadLabels[t] === undefined ? `T${t}` : `T${t} (${threadLabels[t]})`,
    color: THREAD_COLORS[t % THREAD_COLORS.length]!,
    points: drawn(points),
  }));
  series.push({ id: "global", label: "shared pool", color: GLOBAL_POOL_COLOR, dashed: true, points: drawn(row.series.globalPooled) });
  return renderLineChart({
    attrs: { "data-chart": "pooled", "data-policy": row.label, "data-row": String(index) },
    title: `${row.label}: pooled stacks per thread`,
    xLabel: axisLabel(report),
    yLabel: "stacks pooled",
    series,
  });
}

function axisLabel(report: Pick<WhatIfReport, "axis">): string {
  return report.axis === "seconds" ? "seconds since the log's first line" : "pool event (the log has no times)";
}

/**
 * Buckets [x, least, most, last] as a stepped line: each bucket a vertical
 * stroke through its range ending at its last value, held flat to the next.
 */
function drawn(points: SeriesPoint[]): Point[] {
  const out: Point[] = [];
  const add = (x: number, y: number) => {
    const prev = out[out.length - 1];
    if (prev === undefined || prev.x !== x || prev.y !== y) out.push({ x, y });
  };
  let held: number | undefined;
  for (const [x, min, max, last] of points) {
    if (held !== undefined) add(x, held);
    add(x, min);
    add(x, max);
    add(x, last);
    held = last;
  }
  return out;
}

function parameterRows(report: WhatIfReport): string[][] {
  return [
    ["log", report.source],
    ["format", report.input.format],
    ["max_map_count asked about", String(report.maxMapCount)],
    ["VMAs besides the stacks", String(report.baselineVmas)],
    ["pool increase", String(report.input.qemu?.poolIncrease ?? "from the trace's inc lines")],
    ["x axis", report.axis],
  ];
}
