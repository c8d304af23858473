/**
 * The Grafana dashboard's queries (docs/grafana/), and the metric names a
 * PromQL expression reads, for the tests that hold the dashboard to what the
 * exporter serves and to what Prometheus accepts.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./cli.js";

export const DASHBOARD = join(ROOT, "docs", "grafana", "coropool-watch.json");

interface Panel {
  title: string;
  targets?: { expr: string }[];
  fieldConfig?: { defaults?: { thresholds?: { steps: { value: number | null }[] } } };
}
interface Dashboard {
  panels: Panel[];
  templating: { list: { type: string; query?: string | { query: string } }[] };
}

export function readDashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD, "utf8")) as Dashboard;
}

/** Every PromQL expression of the panels, by panel title. */
export function panelQueries(d: Dashboard = readDashboard()): { panel: string; expr: string }[] {
  return d.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
}

/** The metric each query variable lists its values from (`label_values(METRIC, LABEL)`). */
export function variableMetrics(d: Dashboard = readDashboard()): string[] {
  return d.templating.list
    .filter((v) => v.type === "query")
    .map((v) => {
      const query = typeof v.query === "string" ? v.query : v.query!.query;
      const m = /^label_values\(\s*([a-zA-Z_:][\w:]*)\s*,\s*\w+\s*\)$/.exec(query);
      if (!m) throw new Error(`a dashboard variable query this test cannot read: ${query}`);
      return m[1]!;
    });
}

const NOT_METRICS = new Set(["by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset"]);

/**
 * The metric names a PromQL expression reads: every name left once strings,
 * label matchers, ranges, Grafana variables, numbers and grouping lists are
 * taken out, that is not a function (a name before "(") nor a keyword.
 */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, "")
    .replace(/\{[^}]*\}/g, "")
    .replace(/\[[^\]]*\]/g, "")
    .replace(/\$\{?\w+\}?/g, "")
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, "")
    .replace(/(?<![\w:])\d[\w.]*/g, "");
  return [...bare.matchAll(/([a-zA-Z_:][\w:]*)(\s*\()?/g)].filter((m) => m[2] === undefined && !NOT_METRICS.has(m[1]!)).map((m) => m[1]!);
}
