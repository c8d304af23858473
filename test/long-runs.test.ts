/**
 * Runs of any length (issue 11): a million samples are drawn without
 * spreading arrays into calls, reduced to a few thousand points that keep
 * each stretch's low and high (the spike and the abort stay visible), and a
 * run's sampler keeps a bounded number of samples however long it goes.
 * Unit level, so it takes well under a second instead of a real run of hours.
 */
import { describe, expect, it } from "vitest";
import { initialPoolMaxSize, openPolicy, policyId } from "../src/pools/index.js";
import { renderReportHtml } from "../src/report/html.js";
import type { ResultDocument } from "../src/report/document.js";
import { machineInfo } from "../src/report/machine.js";
import { MAX_DRAWN_POINTS, renderLineChart, thin, type Point } from "../src/report/svg.js";
import { vmaChartText } from "../src/report/terminal-chart.js";
import type { RunResult } from "../src/runtime/result.js";
import { MAX_KEPT_SAMPLES, Sampler, type Sample } from "../src/runtime/sampler.js";
import { Vma } from "../src/shared/layout.js";
import { SharedRegion } from "../src/shared/region.js";
import { StackAllocator } from "../src/stacks/stack-allocator.js";

const MILLION = 1_000_000;
const SPIKE_AT = 654_321;
const SPIKE = 65_530;

function millionPoints(): Point[] {
  return Array.from({ length: MILLION }, (_, i) => ({ x: i * 0.16, y: i === SPIKE_AT ? SPIKE : 1000 + (i % 50) }));
}

describe("a million samples", () => {
  it("the series reduction keeps at most MAX_DRAWN_POINTS, in order, with the spike and the last stretch's low", () => {
    const kept = thin(millionPoints(), MAX_DRAWN_POINTS);
    expect(kept.length).toBeLessThanOrEqual(MAX_DRAWN_POINTS);
    expect(kept.length).toBeGreaterThan(MAX_DRAWN_POINTS / 2);
    expect(kept.some((p) => p.y === SPIKE && p.x === SPIKE_AT * 0.16)).toBe(true);
    expect(kept.some((p) => p.y === 1000)).toBe(true);
    expect(kept.every((p, i) => i === 0 || p.x > kept[i - 1]!.x)).toBe(true);
  });

  it("the SVG chart draws them: a path of at most MAX_DRAWN_POINTS points reaching the spike, the abort marked", () => {
    const svg = renderLineChart({
      attrs: { "data-chart": "vmas" },
      title: "VMAs over time",
      xLabel: "ms",
      yLabel: "VMAs",
      series: [{ id: "legacy", label: "legacy", color: "#c0392b", points: millionPoints() }],
      lines: [{ y: SPIKE, label: "limit", color: "#111", attrs: { "data-limit": String(SPIKE) } }],
      markers: [{ x: SPIKE_AT * 0.16, y: SPIKE, label: "aborted", color: "#c0392b", attrs: { "data-abort": "legacy" } }],
    });
    expect(svg).toContain(`data-points="${MILLION}"`);
    const path = /<g class="series"[^>]*>.*?<path d="([^"]+)"/.exec(svg)![1]!;
    const drawn = path.split(/[ML]/).filter((p) => p !== "");
    expect(drawn.length).toBeLessThanOrEqual(MAX_DRAWN_POINTS);
    // The spike is at the top of the plot: the highest point drawn has the smallest y.
    const ys = drawn.map((p) => Number(p.split(" ")[1]));
    const top = ys.reduce((a, b) => Math.min(a, b), Infinity);
    const limitY = Number(/data-limit="65530"><line x1="\d+" x2="\d+" y1="([\d.]+)"/.exec(svg)![1]);
    expect(top).toBe(limitY);
    expect(svg).toContain('data-abort="legacy"');
    expect(svg).not.toMatch(/NaN|Infinity/);
  });

  it("the whole report page and the terminal chart draw a run of a million samples", () => {
    const samples: Sample[] = millionPoints().map((p) => ({ tMs: p.x, vmas: p.y, pooledGlobal: 0, pooledThreads: [1, 2], liveThreads: [0, 1] }));
    const run = { policy: "legacy", threads: 2, samples, vmas: { baseline: 1000, limit: SPIKE, peak: SPIKE, final: 1000, backToBaseline: true }, abort: null } as unknown as RunResult;
    const doc = {
      schemaVersion: 1,
      command: "run",
      machine: machineInfo(),
      scenarioFile: "x.json",
      scenario: { kind: "custom", description: "", module: "w.mjs", threads: 2, options: {}, maxMapCount: null, seed: 1 },
      runs: [{ ...run, completed: true, deadThreads: [], timedOut: false, interrupted: false, durationMs: 1, stacks: { created: 0, freed: 0, leaked: 0, liveAtEnd: 0 }, pool: { maxSize: 0, hardMaxSize: 0, drainedAtShutdown: 0 }, lock: { acquisitions: 0, contended: 0, waitNs: 0, recoveries: 0 }, perThread: [], parts: [null, null], reclaimedInFlight: 0, strandedMappingsReleased: 0, invariantViolations: [], phaseChecks: [], backend: "simulated", crossChecks: [], crossCheckMismatches: [] }],
    } as unknown as ResultDocument;
    const html = renderReportHtml(doc);
    expect(html).toContain(`data-points="${MILLION}"`);
    expect(html.length).toBeLessThan(2_000_000);
    expect(vmaChartText([run], { color: false })).toContain(`peak ${SPIKE}`);
  });
});

describe("the sampler's memory is bounded", () => {
  function sampler(maxKept: number): { sampler: Sampler; setVmas(n: number): void } {
    const region = SharedRegion.create({ policyId: policyId("batched"), threads: 2, stackCapacity: 4, vmaLimit: 1 << 30, baselineVmas: 0, initialPoolMaxSize: initialPoolMaxSize("batched"), hardMaxSize: 0 });
    const policy = openPolicy(region, new StackAllocator(region));
    return { sampler: new Sampler(region, policy, undefined, maxKept), setVmas: (n) => Atomics.store(region.i32, Vma.CURRENT, n) };
  }

  it("by default a run keeps at most MAX_KEPT_SAMPLES (past that, stretches merge)", () => {
    expect(MAX_KEPT_SAMPLES).toBeLessThanOrEqual(20_000);
  });

  it("200,000 ticks keep at most the bound, in time order, with the one spike, the lowest dip and the last sample", () => {
    const { sampler: s, setVmas } = sampler(1000);
    for (let i = 0; i < 200_000; i++) {
      setVmas(i === 123_457 ? 99_999 : i === 7_777 ? 1 : 500 + (i % 17));
      s.take();
    }
    setVmas(42);
    s.stop();
    expect(s.samples.length).toBeLessThanOrEqual(1001);
    expect(s.samples.length).toBeGreaterThan(250);
    expect(s.samples.some((x) => x.vmas === 99_999)).toBe(true);
    expect(s.samples.some((x) => x.vmas === 1)).toBe(true);
    expect(s.samples[s.samples.length - 1]!.vmas).toBe(42);
    expect(s.samples.every((x, i) => i === 0 || x.tMs >= s.samples[i - 1]!.tMs)).toBe(true);
  });

  it("below the bound every sample is kept", () => {
    const { sampler: s, setVmas } = sampler(1000);
    for (let i = 0; i < 300; i++) {
      setVmas(i);
      s.take();
    }
    s.stop();
    expect(s.samples.map((x) => x.vmas)).toEqual([...Array.from({ length: 300 }, (_, i) => i), 299]);
  });
});
