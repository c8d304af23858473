/**
 * The Grafana dashboard (docs/grafana/coropool-watch.json). Grafana is not in
 * Debian, so the dashboard is held to what can be checked here: every query
 * names only metrics the exporter really serves (read from its /metrics page),
 * the four per-VM gauges are all shown, and the thresholds drawn are the alert
 * rules' own. test/prometheus-server.test.ts runs every query on a real
 * Prometheus.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { metricNames, panelQueries, readDashboard, variableMetrics } from "./helpers/dashboard.js";
import { ROOT } from "./helpers/cli.js";
import { servedMetrics } from "./helpers/watched.js";

describe("the Grafana dashboard", () => {
  it("reads metric names out of PromQL (the check below is not vacuous)", () => {
    expect(metricNames('sum by (vm) (rate(foo_total{a="b",c=~"$vm"}[5m])) / on(pid) group_left bar:ratio > 0.2 or vector(1e3)')).toEqual(["foo_total", "bar:ratio"]);
    expect(metricNames('deriv(coropool_qemu_stacks{vm=~"$vm"}[10m]) * 60')).toEqual(["coropool_qemu_stacks"]);
  });

  it("every query and variable names only metrics the exporter serves", async () => {
    const served = await servedMetrics();
    expect([...served].sort()).toEqual([
      "coropool_max_map_count",
      "coropool_qemu_headroom_ratio",
      "coropool_qemu_peak_stacks",
      "coropool_qemu_stacks",
      "coropool_qemu_unreadable",
      "coropool_qemu_vmas",
      "coropool_qemu_worst_case_headroom_ratio",
      "coropool_qemu_worst_case_vmas",
      "coropool_scrape_duration_seconds",
    ]);
    const queries = panelQueries();
    expect(queries.length).toBeGreaterThanOrEqual(8);
    for (const { panel, expr } of queries) {
      const names = metricNames(expr);
      expect(names.length, `${panel}: ${expr}`).toBeGreaterThan(0);
      for (const name of names) expect(served, `${panel}: ${expr}`).toContain(name);
    }
    for (const name of variableMetrics()) expect(served).toContain(name);
  });

  it("shows stacks, peak stacks, VMAs and headroom per VM", () => {
    const shown = new Set(panelQueries().flatMap(({ expr }) => metricNames(expr)));
    for (const name of ["coropool_qemu_stacks", "coropool_qemu_peak_stacks", "coropool_qemu_vmas", "coropool_qemu_headroom_ratio", "coropool_max_map_count"]) {
      expect(shown).toContain(name);
    }
  });

  it("draws the alert rules' thresholds: 20% headroom and 500 stacks a minute", () => {
    const rules = readFileSync(join(ROOT, "docs", "prometheus", "alerts.yml"), "utf8");
    const headroom = Number(/expr: coropool_qemu_headroom_ratio < ([\d.]+)/.exec(rules)![1]);
    const growth = /expr: (deriv\(coropool_qemu_stacks\[\w+\]\) \* 60) > (\d+)/.exec(rules)!;
    expect([headroom, Number(growth[2])]).toEqual([0.2, 500]);
    const thresholds = (title: RegExp) =>
      readDashboard()
        .panels.filter((p) => title.test(p.title))
        .map((p) => p.fieldConfig!.defaults!.thresholds!.steps.map((s) => s.value).filter((v) => v !== null));
    expect(thresholds(/headroom/i)).toEqual([[headroom], [headroom]]);
    expect(thresholds(/growth/i)).toEqual([[Number(growth[2])], [Number(growth[2])]]);
    // The growth panels plot the rule's own expression (the variable's selector aside).
    const growthExprs = panelQueries().filter(({ panel }) => /growth/i.test(panel)).map(({ expr }) => expr.replace(/\{[^}]*\}/, ""));
    expect(growthExprs).toEqual([`max(${growth[1]})`, growth[1]]);
  });
});
