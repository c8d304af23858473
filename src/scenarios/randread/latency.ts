/**
 * Completion latencies of a randread job and their percentiles, the figures
 * fio prints as "clat percentiles", kept in an HDR histogram
 * (hdr-histogram-js, its pure-JavaScript build) in nanoseconds at 3
 * significant digits: a fixed few kilobytes however long the job runs, where
 * keeping every sample would cost 8 bytes a request.
 *
 * Rank rule (nearest rank, as HdrHistogram applies it): the P-th percentile
 * of n samples is read at the sample of 1-based rank ceil(P / 100 × n) in
 * ascending order. So of the ten samples 1..10, p50 is rank 5, p90 rank 9,
 * and p99 and p99.9 are both rank 10.
 *
 * Precision: the histogram reports the highest value of the bucket that
 * holds that sample. Below 2048 ns a bucket is 1 ns wide (exact); from 2^k ns
 * (k ≥ 11) up to 2^(k+1) it is 2^(k−10) ns wide. So a reported percentile is
 * never below the true sample and at most 1/1024 (under 0.1%) above it:
 * 10,000 ns reads as 10,007 ns, 500,000 ns as 500,223 ns.
 *
 * min, max and mean are exact: they are tracked beside the histogram.
 */
import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64, type Histogram } from "hdr-histogram-js";

const NS_PER_US = 1_000;

/** HdrHistogram's precision setting: 3 significant decimal digits (buckets of at most 1/1024 of their value). */
export const LATENCY_SIGNIFICANT_DIGITS = 3;

/** The percentiles reported, as HdrHistogram takes them. */
const P50 = 50;
const P90 = 90;
const P99 = 99;
const P999 = 99.9;

/** The percentiles alone, in microseconds: what several jobs' merged histograms give. */
export type LatencyPercentiles = Pick<LatencySummary, "p50" | "p90" | "p99" | "p999">;

/** A job's latency figures in microseconds; every field is NaN when nothing completed. */
export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  min: number;
  max: number;
  mean: number;
}

export class LatencyRecorder {
  private readonly histogram: Histogram = newHistogram();
  private size = 0;
  private sumNs = 0;
  private minNs = Infinity;
  private maxNs = -Infinity;

  /** Samples recorded so far. */
  get count(): number {
    return this.size;
  }

  /** Record one request's latency, in nanoseconds (rounded to a whole nanosecond for the histogram). */
  record(latencyNs: number): void {
    const ns = Math.max(0, latencyNs);
    this.histogram.recordValue(Math.round(ns));
    this.size++;
    this.sumNs += ns;
    if (ns < this.minNs) this.minNs = ns;
    if (ns > this.maxNs) this.maxNs = ns;
  }

  /** Percentiles (within the precision above), exact min, max and mean, in microseconds. Recording may go on afterwards. */
  summarizeUs(): LatencySummary {
    if (this.size === 0) return emptySummary();
    return {
      ...percentilesUs(this.histogram),
      min: this.minNs / NS_PER_US,
      max: this.maxNs / NS_PER_US,
      mean: this.sumNs / this.size / NS_PER_US,
    };
  }

  /** The histogram, compressed, to cross a thread boundary (HdrHistogram's own encoding). */
  encode(): string {
    return encodeIntoCompressedBase64(this.histogram);
  }
}

/**
 * Percentiles over every request of several jobs (one per IOThread): their
 * histograms added together, as fio reports a group's clat percentiles.
 */
export function mergedPercentilesUs(encoded: string[]): LatencyPercentiles {
  const merged = newHistogram();
  for (const e of encoded) merged.add(decodeFromCompressedBase64(e, BIT_BUCKET_SIZE, false));
  if (merged.totalCount === 0) return { p50: NaN, p90: NaN, p99: NaN, p999: NaN };
  return percentilesUs(merged);
}

function percentilesUs(h: Histogram): LatencyPercentiles {
  const at = (p: number) => h.getValueAtPercentile(p) / NS_PER_US;
  return { p50: at(P50), p90: at(P90), p99: at(P99), p999: at(P999) };
}

/** 64-bit counts: a bucket never overflows, however long the run. */
const BIT_BUCKET_SIZE = 64;

function newHistogram(): Histogram {
  return build({
    bitBucketSize: BIT_BUCKET_SIZE,
    lowestDiscernibleValue: 1,
    // Grows as larger latencies arrive, so no sample is ever refused.
    highestTrackableValue: 2,
    autoResize: true,
    numberOfSignificantValueDigits: LATENCY_SIGNIFICANT_DIGITS,
    useWebAssembly: false,
  });
}

function emptySummary(): LatencySummary {
  return { p50: NaN, p90: NaN, p99: NaN, p999: NaN, min: NaN, max: NaN, mean: NaN };
}
