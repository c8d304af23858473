/**
 * The VMA-over-time picture in the terminal (asciichart): one line per
 * policy on a shared time axis, and the VMA limit. The demo draws it only
 * when stdout is a terminal, so piped and --json output never carry it.
 */
import * as asciichart from "asciichart";
import type { RunResult } from "../runtime/result.js";
import { ANSI_RESET, LIMIT_ANSI, policyColor } from "./colors.js";
import { quietStartMs } from "./series.js";

export interface TerminalChartOptions {
  /** Columns of plot (the labels take 9 more). */
  width?: number;
  /** Rows of plot. */
  height?: number;
  /** ANSI colours; off gives plain text (for tests and dumb terminals). */
  color?: boolean;
}

/**
 * VMAs over time for each run, the runs on one time axis (a run that ended
 * sooner, such as one that aborted, stops short), with the limit as a flat
 * line. Each column shows the highest VMA count sampled in its time slice.
 */
export function vmaChartText(runs: RunResult[], options: TerminalChartOptions = {}): string {
  const width = options.width ?? 64;
  const height = options.height ?? 12;
  const color = options.color ?? true;
  const withSamples = runs.filter((r) => r.samples.length > 0);
  if (withSamples.length === 0) return "";
  // Like the HTML charts: leave out a long quiet start (worker threads starting).
  const startMs = quietStartMs(withSamples) ?? 0;
  const endMs = Math.max(...withSamples.map((r) => r.samples[r.samples.length - 1]!.tMs), startMs + 1e-9);
  const sliceMs = (endMs - startMs) / width;
  const limit = Math.max(...withSamples.map((r) => r.vmas.limit));
  const series = withSamples.map((r) => columns(r, startMs, sliceMs, width));
  const colors = withSamples.map((r, i) => policyColor(r.policy, i));
  const limitLine = new Array<number>(width).fill(limit);
  const plot = asciichart.plot([limitLine, ...series], {
    height,
    min: 0,
    max: limit,
    colors: color ? [LIMIT_ANSI, ...colors.map((c) => c.ansi)] : [],
    format: (x: number) => formatCount(x).padStart(8),
  });
  const [left, right] = [`${Math.round(startMs)} ms`, `${Math.round(endMs)} ms`];
  const axis = `${" ".repeat(9)}${left}${" ".repeat(Math.max(1, width - left.length - right.length))}${right}`;
  const legend = withSamples
    .map((r, i) => {
      const name = color ? `${colors[i]!.ansi}${r.policy}${ANSI_RESET} (${colors[i]!.name})` : r.policy;
      return r.abort ? `${name}: aborted at ${r.abort.vmas} VMAs` : `${name}: peak ${r.vmas.peak}`;
    })
    .join("; ");
  return [`VMAs over time (limit ${limit} at the top)`, plot, axis, `${" ".repeat(9)}${legend}`].join("\n");
}

/** The run's samples from startMs as at most `max` columns (fewer when it ended early), each the slice's peak. */
function columns(r: RunResult, startMs: number, sliceMs: number, max: number): number[] {
  const out: number[] = [];
  let i = 0;
  while (i + 1 < r.samples.length && r.samples[i + 1]!.tMs <= startMs) i++;
  let last = r.samples[i]!.vmas;
  const end = r.samples[r.samples.length - 1]!.tMs;
  for (let c = 0; c < max && startMs + c * sliceMs <= end; c++) {
    const sliceEnd = startMs + (c + 1) * sliceMs;
    let peak = -Infinity;
    while (i < r.samples.length && r.samples[i]!.tMs < sliceEnd) peak = Math.max(peak, r.samples[i++]!.vmas);
    if (peak !== -Infinity) last = peak;
    out.push(last);
  }
  return out.length > 0 ? out : [last];
}

function formatCount(x: number): string {
  return String(Math.round(x));
}
