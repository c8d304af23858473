/** What the charts (HTML and terminal) share about a run's time series. */
import type { RunResult } from "../runtime/result.js";

/**
 * A run's samples start before its worker threads exist; on a short run that
 * quiet stretch can fill most of the chart. When it is more than a tenth of
 * the longest run, the time of the last quiet sample (the earliest over the
 * runs), where the charts then start; else undefined (start at 0).
 */
export function quietStartMs(runs: RunResult[]): number | undefined {
  let start = Infinity;
  let end = 0;
  for (const r of runs) {
    if (r.samples.length === 0) return undefined;
    end = Math.max(end, r.samples[r.samples.length - 1]!.tMs);
    const first = r.samples[0]!;
    const active = r.samples.findIndex(
      (s) => s.vmas !== first.vmas || s.pooledGlobal > 0 || s.pooledThreads.some((n) => n > 0) || s.liveThreads.some((n) => n > 0),
    );
    if (active === -1) return undefined;
    start = Math.min(start, r.samples[Math.max(0, active - 1)]!.tMs);
  }
  return start > end / 10 && Number.isFinite(start) ? start : undefined;
}
