import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { PolicyName } from "../src/pools/index.js";
import { replayTrace } from "../src/replay/replay.js";
import { parseTrace } from "../src/replay/trace.js";
import { whatIf } from "../src/replay/whatif.js";
import { MinMaxSeries } from "../src/replay/series.js";
import { TraceBuilder } from "./helpers/trace-builder.js";

const SAMPLES = join(import.meta.dirname, "fixtures", "qemu-real");

/**
 * The least M at which replayTrace at limit M completes, by trying every M in
 * turn. Below baseline + 2 no stack can be mapped at all (its two VMAs would
 * pass M), so a trace that creates any coroutine starts there; one that
 * creates none fits under its baseline (the process's own VMAs), or 1.
 */
function leastCompletingLimit(text: string, policy: PolicyName, baselineVmas: number, upTo: number): number {
  const trace = parseTrace(text);
  if (trace.creates === 0) return Math.max(1, baselineVmas);
  for (let m = baselineVmas + 2; m <= upTo; m++) {
    if (replayTrace(trace, { policy, maxMapCount: m, baselineVmas }).result.failure === null) return m;
  }
  throw new Error(`no limit up to ${upTo} completes`);
}

/** Bursts of creates on one thread, terminated on another: batches go to the global pool and back. */
const workload = fc.array(fc.record({ from: fc.nat(2), to: fc.nat(2), n: fc.integer({ min: 0, max: 420 }) }), { minLength: 1, maxLength: 6 });

function traceOf(steps: { from: number; to: number; n: number }[]): string {
  const b = new TraceBuilder(3);
  const kept: string[] = [];
  for (const s of steps) {
    const names = b.create(s.from, s.n);
    // Half stay live across the next burst, so the peaks differ per policy.
    b.terminate(s.to, names.slice(0, Math.ceil(names.length / 2)));
    b.terminate(s.to, kept.splice(0));
    kept.push(...names.slice(Math.ceil(names.length / 2)));
  }
  return b.text();
}

describe("what-if: the smallest safe max_map_count is exact", () => {
  it("equals the least limit at which the replay completes, found by trying every limit (batched near its cap's edge)", async () => {
    // A baseline just under 5000 puts the smallest limits where the batched hard cap is small and changes with M.
    const baselineVmas = 4400;
    await fc.assert(
      fc.asyncProperty(workload, async (steps) => {
        const text = traceOf(steps);
        const answer = await whatIf({ text }, { maxMapCount: 65530, baselineVmas, policies: [{ policy: "batched" }, { policy: "legacy" }, { policy: "none" }] });
        for (const row of answer.rows) {
          const upTo = baselineVmas + 2 * row.peakStacks + 2 * 1024;
          expect(row.smallestSafeMaxMapCount, row.label).toBe(leastCompletingLimit(text, row.policy, baselineVmas, upTo));
        }
      }),
      { numRuns: 8 },
    );
  }, 120_000);

  it("for elastic too, whose cap is batched's less the local batches of the threads holding one and one batch more, when no thread exits", async () => {
    // elastic's cap is 0 up to 5000 + 2 × (n × 256 + 127) VMAs with n of the 3 threads holding a local
    // pool (5766 to 6790): a baseline below that puts the answers where it changes with M and with n.
    const baselineVmas = 5000;
    await fc.assert(
      fc.asyncProperty(workload, async (steps) => {
        const text = traceOf(steps);
        const [row] = (await whatIf({ text }, { maxMapCount: 65530, baselineVmas, policies: [{ policy: "elastic" }] })).rows;
        expect(row!.smallestSafeMaxMapCount).toBe(leastCompletingLimit(text, "elastic", baselineVmas, baselineVmas + 2 * row!.peakStacks + 2 * 1024));
      }),
      { numRuns: 8 },
    );
  }, 120_000);

  it("none for elastic where a thread exits: its donation meets the cap stack by stack", async () => {
    const b = new TraceBuilder(2);
    b.terminate(0, b.create(0, 300));
    const text = b.exit(0).burst(1, 200).text();
    const [row] = (await whatIf({ text }, { maxMapCount: 65530, baselineVmas: 1000, policies: [{ policy: "elastic" }] })).rows;
    expect(row!.smallestSafeMaxMapCount).toBeNull();
  });

  it("where it aborts at the given limit is where the limited replay aborts", async () => {
    const text = traceOf([{ from: 0, to: 1, n: 400 }, { from: 1, to: 2, n: 300 }, { from: 2, to: 0, n: 380 }]);
    for (const maxMapCount of [5600, 5900, 6200, 6500]) {
      const answer = await whatIf({ text }, { maxMapCount, baselineVmas: 4400, policies: [{ policy: "legacy" }, { policy: "batched" }] });
      for (const row of answer.rows) {
        const limited = replayTrace(parseTrace(text), { policy: row.policy, maxMapCount, baselineVmas: 4400 }).result;
        expect(row.abort && { line: row.abort.line, error: row.abort.error }).toEqual(limited.failure);
      }
    }
  });

  it("on a real QEMU log: a table for every policy, series by time, legacy needing the most", async () => {
    const answer = await whatIf({ path: join(SAMPLES, "qemu10-virtio-p.trace.log.gz") }, { maxMapCount: 2000, baselineVmas: 1000, poolIncrease: 1024 });
    expect(answer.axis).toBe("seconds");
    expect(answer.rows.map((r) => r.label)).toEqual(["legacy", "batched (uncapped)", "batched", "none", "elastic"]);
    for (const row of answer.rows) {
      expect(row.abort).not.toBeNull();
      expect(row.smallestSafeMaxMapCount).toBeGreaterThan(2000);
      expect(row.series.mapped.length).toBeGreaterThan(10);
      expect(row.series.mapped.length).toBeLessThanOrEqual(4000);
      expect(Math.max(...row.series.mapped.map((p) => p[2]))).toBe(row.peakStacks);
    }
    const byLabel = Object.fromEntries(answer.rows.map((r) => [r.label, r]));
    expect(byLabel["batched (uncapped)"]!.mappedAtEnd).toBe(1280);
    expect(byLabel["none"]!.globalLockAcquisitions).toBe(0);
    expect(byLabel["batched"]!.globalLockAcquisitions).toBeGreaterThan(0);
  });
});

describe("min/max series", () => {
  it("keeps every extreme while merging buckets", () => {
    const s = new MinMaxSeries(10);
    for (let x = 0; x < 1000; x++) s.add(x, x === 517 ? 99 : x === 33 ? -5 : 1);
    const points = s.points();
    expect(points.length).toBeLessThanOrEqual(20);
    expect(Math.max(...points.map((p) => p[2]))).toBe(99);
    expect(Math.min(...points.map((p) => p[1]))).toBe(-5);
  });
});
