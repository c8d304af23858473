/**
 * Completion latencies of a randread job and their percentiles, the figures
 * fio prints as "clat percentiles" — but exact: every sample is kept (in one
 * growable Float64Array, 8 bytes a sample, no per-sample objects) and the
 * percentiles are read off the sorted samples, where fio reads them off
 * log-scale histogram buckets.
 *
 * Rank rule (nearest rank): the P-th percentile of n samples is the
 * smallest sample that at least P% of the samples are less than or equal to,
 * i.e. the sample of 1-based rank ceil(P / 100 × n) in ascending order.
 * So of the ten samples 1..10, p50 is 5, p90 is 9, and p99 and p99.9 are both
 * 10; the result is always one of the samples, never an interpolation.
 */

const NS_PER_US = 1_000;

/** Samples the recorder holds before it first grows (32 KiB). */
const INITIAL_CAPACITY = 4_096;

/**
 * The reported percentiles in per-mille, so the rank is computed from
 * integers: 99.9 / 100 is not exact in binary floating point, 999 / 1000 × n
 * rounds once, at the end.
 */
const P50_PER_MILLE = 500;
const P90_PER_MILLE = 900;
const P99_PER_MILLE = 990;
const P999_PER_MILLE = 999;
const PER_MILLE = 1_000;

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
  private samples: Float64Array;
  private size = 0;
  private sumNs = 0;

  constructor(initialCapacity: number = INITIAL_CAPACITY) {
    this.samples = new Float64Array(Math.max(1, initialCapacity));
  }

  /** Samples recorded so far. */
  get count(): number {
    return this.size;
  }

  /** Record one request's latency, in nanoseconds. */
  record(latencyNs: number): void {
    if (this.size === this.samples.length) this.grow();
    this.samples[this.size++] = latencyNs;
    this.sumNs += latencyNs;
  }

  /** Percentiles, min, max and mean over every sample, in microseconds. Recording may go on afterwards. */
  summarizeUs(): LatencySummary {
    if (this.size === 0) return emptySummary();
    // In place: the samples' order means nothing, and a sorted copy would
    // double the memory of a long run (8 bytes a request).
    const sorted = this.samples.subarray(0, this.size).sort();
    return {
      p50: percentile(sorted, P50_PER_MILLE) / NS_PER_US,
      p90: percentile(sorted, P90_PER_MILLE) / NS_PER_US,
      p99: percentile(sorted, P99_PER_MILLE) / NS_PER_US,
      p999: percentile(sorted, P999_PER_MILLE) / NS_PER_US,
      min: sorted[0]! / NS_PER_US,
      max: sorted[this.size - 1]! / NS_PER_US,
      mean: this.sumNs / this.size / NS_PER_US,
    };
  }

  /** Doubling keeps recording amortized O(1) per sample. */
  private grow(): void {
    const larger = new Float64Array(this.samples.length * 2);
    larger.set(this.samples);
    this.samples = larger;
  }
}

/**
 * The nearest-rank percentile (see the rank rule at the top) of ascending
 * `sorted`, for a percentile given in per-mille (999 for p99.9).
 */
export function percentile(sorted: Float64Array, perMille: number): number {
  const n = sorted.length;
  const rank = Math.min(n, Math.max(1, Math.ceil((perMille * n) / PER_MILLE)));
  return sorted[rank - 1]!;
}

function emptySummary(): LatencySummary {
  return { p50: NaN, p90: NaN, p99: NaN, p999: NaN, min: NaN, max: NaN, mean: NaN };
}
