/**
 * Line charts as inline SVG, drawn here in TypeScript so the report needs no
 * script, no library and no network. Every element a test or a reader may
 * look for carries a stable data- attribute: the figure its `attrs`
 * (data-chart="vmas" …), each series `data-series`, each horizontal line its
 * own attributes (data-limit), each marker its own (data-abort).
 */
import { escapeHtml } from "./html-escape.js";

export interface Point {
  x: number;
  y: number;
}

export interface LineSeries {
  /** The data-series value: a policy or thread name. */
  id: string;
  label: string;
  color: string;
  points: Point[];
  dashed?: boolean;
  /** Draw a dot at every point (for a few measured points, not a time series). */
  dots?: boolean;
}

/** A horizontal rule across the plot, such as the VMA limit. */
export interface HorizontalLine {
  y: number;
  label: string;
  color: string;
  attrs: Record<string, string>;
}

/** A labelled mark at one point, such as where a run aborted. */
export interface Marker {
  x: number;
  y: number;
  label: string;
  color: string;
  attrs: Record<string, string>;
}

export interface LineChartSpec {
  /** Attributes of the <figure>: data-chart and whatever else identifies it. */
  attrs: Record<string, string>;
  title: string;
  xLabel: string;
  yLabel: string;
  /** log2 suits iodepths (1, 2, 4 … 64); linear suits time. */
  xScale?: "linear" | "log2";
  /** Where to put x ticks; default: round numbers across the range. */
  xTicks?: number[];
  /** Start of the x axis (linear scale); points before it are left out. Default: 0 or the smallest x. */
  xMin?: number;
  series: LineSeries[];
  lines?: HorizontalLine[];
  markers?: Marker[];
  /** A sentence under the chart. */
  note?: string;
}

const WIDTH = 760;
const HEIGHT = 320;
const MARGIN = { left: 72, right: 24, top: 16, bottom: 48 };
const PLOT_W = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_H = HEIGHT - MARGIN.top - MARGIN.bottom;

/**
 * Points drawn per series at most: a time series of any length (a run of
 * hours has millions of samples) is reduced to this, keeping each stretch's
 * low and high, so spikes and the climb to an abort stay visible.
 */
export const MAX_DRAWN_POINTS = 2000;

/** The smallest and largest of numbers seen one at a time (never spread into Math.min/max: any count works). */
class Range {
  min = Infinity;
  max = -Infinity;

  add(n: number): void {
    if (n < this.min) this.min = n;
    if (n > this.max) this.max = n;
  }

  get empty(): boolean {
    return this.min > this.max;
  }
}

export function renderLineChart(spec: LineChartSpec): string {
  const log = spec.xScale === "log2";
  const from = spec.xMin;
  const visible = (points: Point[]) => (from === undefined ? points : points.filter((p) => p.x >= from));
  // Each series is reduced for drawing first: the ranges below then loop over a few thousand points at most.
  const drawn = spec.series.map((s) => thin(visible(s.points), MAX_DRAWN_POINTS));
  const tx = (x: number) => (log ? Math.log2(Math.max(x, Number.MIN_VALUE)) : x);
  const xRange = new Range();
  const yRange = new Range();
  for (const points of drawn) for (const p of points) xRange.add(tx(p.x)), yRange.add(p.y);
  for (const m of spec.markers ?? []) xRange.add(tx(m.x)), yRange.add(m.y);
  for (const t of spec.xTicks ?? []) xRange.add(tx(t));
  for (const l of spec.lines ?? []) yRange.add(l.y);
  let xMin = xRange.empty ? 0 : xRange.min;
  let xMax = xRange.empty ? 1 : xRange.max;
  if (!log) xMin = from ?? Math.min(0, xMin);
  if (xMax <= xMin) xMax = xMin + 1;
  // A linear axis ends on a round tick, so the last label sits at the plot's edge, not past it.
  const xTickValues = spec.xTicks ?? niceTicks(xMin, xMax, 8);
  if (!log && spec.xTicks === undefined) xMax = Math.max(xMax, xTickValues[xTickValues.length - 1]!);
  const yTicks = niceTicks(0, yRange.empty ? 1 : yRange.max * 1.05, 6);
  const yMax = yTicks[yTicks.length - 1]!;
  const px = (x: number) => MARGIN.left + ((tx(x) - xMin) / (xMax - xMin)) * PLOT_W;
  const py = (y: number) => MARGIN.top + PLOT_H - (y / yMax) * PLOT_H;

  const parts: string[] = [];
  // Grid and axes.
  for (const t of yTicks) {
    const y = round(py(t));
    parts.push(`<line class="grid" x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y}" y2="${y}"/>`);
    parts.push(`<text class="tick" x="${MARGIN.left - 6}" y="${y + 4}" text-anchor="end">${formatTick(t)}</text>`);
  }
  for (const t of xTickValues) {
    const x = round(px(t));
    parts.push(`<line class="tickmark" x1="${x}" x2="${x}" y1="${MARGIN.top + PLOT_H}" y2="${MARGIN.top + PLOT_H + 5}"/>`);
    parts.push(`<text class="tick" x="${x}" y="${MARGIN.top + PLOT_H + 18}" text-anchor="middle">${formatTick(t)}</text>`);
  }
  parts.push(
    `<line class="axis" x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${MARGIN.top + PLOT_H}"/>`,
    `<line class="axis" x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${MARGIN.top + PLOT_H}" y2="${MARGIN.top + PLOT_H}"/>`,
    `<text class="label" x="${MARGIN.left + PLOT_W / 2}" y="${HEIGHT - 8}" text-anchor="middle">${escapeHtml(spec.xLabel)}</text>`,
    `<text class="label" transform="translate(16 ${MARGIN.top + PLOT_H / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(spec.yLabel)}</text>`,
  );
  for (const line of spec.lines ?? []) {
    const y = round(py(line.y));
    parts.push(
      `<g${attributes(line.attrs)}><line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y}" y2="${y}" stroke="${line.color}" stroke-width="1.5" stroke-dasharray="6 4"/>` +
        `<text class="line-label" x="${MARGIN.left + 6}" y="${y - 5}" text-anchor="start" fill="${line.color}">${escapeHtml(line.label)}</text></g>`,
    );
  }
  for (const [k, s] of spec.series.entries()) {
    const points = drawn[k]!;
    const d = points.map((p, i) => `${i === 0 ? "M" : "L"}${round(px(p.x))} ${round(py(p.y))}`).join("");
    const path = d === "" ? "" : `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.8"${s.dashed ? ' stroke-dasharray="4 3"' : ""}/>`;
    const dots = s.dots ? points.map((p) => `<circle cx="${round(px(p.x))}" cy="${round(py(p.y))}" r="3.2" fill="${s.color}"><title>${escapeHtml(`${s.label}: ${formatTick(p.x)} → ${formatTick(p.y)}`)}</title></circle>`).join("") : "";
    parts.push(`<g class="series" data-series="${escapeHtml(s.id)}" data-points="${s.points.length}"><title>${escapeHtml(s.label)}</title>${path}${dots}</g>`);
  }
  for (const m of spec.markers ?? []) {
    const x = round(px(m.x));
    const y = round(py(m.y));
    const anchor = x > MARGIN.left + PLOT_W * 0.6 ? "end" : "start";
    const dx = anchor === "end" ? -9 : 9;
    parts.push(
      `<g${attributes(m.attrs)}><title>${escapeHtml(m.label)}</title>` +
        `<path d="M${x - 6} ${y - 6}L${x + 6} ${y + 6}M${x - 6} ${y + 6}L${x + 6} ${y - 6}" stroke="${m.color}" stroke-width="3"/>` +
        `<text class="marker-label" x="${x + dx}" y="${y + 16}" text-anchor="${anchor}" fill="${m.color}">${escapeHtml(m.label)}</text></g>`,
    );
  }

  const legend = spec.series
    .map((s) => `<li><span class="swatch${s.dashed ? " dashed" : ""}" style="border-color:${s.color}"></span>${escapeHtml(s.label)}</li>`)
    .concat((spec.lines ?? []).map((l) => `<li><span class="swatch dashed" style="border-color:${l.color}"></span>${escapeHtml(l.label)}</li>`))
    .join("");
  return (
    `<figure class="chart"${attributes(spec.attrs)}>` +
    `<figcaption>${escapeHtml(spec.title)}</figcaption>` +
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="${escapeHtml(spec.title)}">${parts.join("")}</svg>` +
    `<ul class="legend">${legend}</ul>` +
    (spec.note ? `<p class="note">${escapeHtml(spec.note)}</p>` : "") +
    `</figure>`
  );
}

/**
 * At most `max` points, in x order: each of max/2 stretches keeps its lowest
 * and highest point, so peaks (the climb to the limit) survive thinning.
 */
export function thin(points: Point[], max: number): Point[] {
  if (points.length <= max) return points;
  const stretches = Math.max(1, Math.floor(max / 2));
  const out: Point[] = [];
  for (let b = 0; b < stretches; b++) {
    const from = Math.floor((b * points.length) / stretches);
    const to = Math.floor(((b + 1) * points.length) / stretches);
    if (to <= from) continue;
    let lo = from;
    let hi = from;
    for (let i = from + 1; i < to; i++) {
      if (points[i]!.y < points[lo]!.y) lo = i;
      if (points[i]!.y > points[hi]!.y) hi = i;
    }
    for (const i of lo === hi ? [lo] : [Math.min(lo, hi), Math.max(lo, hi)]) out.push(points[i]!);
  }
  return out;
}

/** Round tick values covering [min, max]: steps of 1, 2 or 5 times a power of ten. */
export function niceTicks(min: number, max: number, count: number): number[] {
  if (!(max > min)) max = min + 1;
  const raw = (max - min) / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let t = Math.ceil(min / step) * step; t <= max + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  if (ticks[ticks.length - 1]! < max) ticks.push(Number((ticks[ticks.length - 1]! + step).toPrecision(12)));
  return ticks;
}

/** 65530 → "65.5k", 1500000 → "1.5M", 0.25 → "0.25". */
export function formatTick(n: number): string {
  const abs = Math.abs(n);
  if (abs >= 1e6) return `${trim(n / 1e6)}M`;
  if (abs >= 1e4) return `${trim(n / 1e3)}k`;
  return trim(n);
}

function trim(n: number): string {
  return String(Number(n.toFixed(abs2(n))));
}

function abs2(n: number): number {
  return Math.abs(n) >= 100 ? 0 : Math.abs(n) >= 10 ? 1 : 2;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

function attributes(attrs: Record<string, string>): string {
  return Object.entries(attrs)
    .map(([k, v]) => ` ${k}="${escapeHtml(v)}"`)
    .join("");
}
