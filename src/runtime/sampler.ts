import type { PoolPolicy } from "../pools/policy.js";
import { Thread, Vma } from "../shared/layout.js";
import type { SharedRegion } from "../shared/region.js";

/** One look at the shared counters while a run goes on. */
export interface Sample {
  tMs: number;
  vmas: number;
  pooledGlobal: number;
  pooledThreads: number[];
  liveThreads: number[];
}

/**
 * Samples a run keeps at most. Past this, neighbouring stretches are merged
 * (each keeps its lowest and highest VMA sample, so spikes and the climb to
 * an abort stay) and each new stretch spans twice the ticks: a run of hours
 * keeps a few megabytes of samples, not one every 5 ms.
 */
export const MAX_KEPT_SAMPLES = 16_384;

/**
 * Reads the shared region on a timer from the main thread. Only atomic loads:
 * the main thread never takes the pool lock or waits, and a sample may be a
 * moment's mix of before and after, which is fine for a time series.
 */
export class Sampler {
  /** The kept samples, in time order (every sample while fewer than MAX_KEPT_SAMPLES were taken). */
  readonly samples: Sample[] = [];
  /** The tick (0, 1, 2 … one per take()) of each kept sample. */
  private readonly keptTicks: number[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** The time origin of every sample's tMs. */
  readonly startNs = process.hrtime.bigint();
  /** Ticks per stretch: 1 until the first merge, then doubled at each. */
  private span = 1;
  private tick = 0;
  /** The open stretch: its lowest and highest VMA samples so far, and the last one. */
  private open: { low: Sample; high: Sample; lowTick: number; highTick: number; last: Sample; lastTick: number } | null = null;
  /** The most each thread had pooled in any sample (kept or not). */
  private readonly peaks: number[];

  constructor(
    private readonly region: SharedRegion,
    private readonly policy: PoolPolicy,
    private readonly onSample?: (sample: Sample) => void,
    private readonly maxKept = MAX_KEPT_SAMPLES,
  ) {
    this.peaks = new Array<number>(region.threadCapacity).fill(0);
  }

  start(intervalMs: number): void {
    this.take();
    this.timer = setInterval(() => this.take(), intervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.take();
    this.closeStretch(true);
  }

  take(): Sample {
    const r = this.region;
    const pooledThreads: number[] = [];
    const liveThreads: number[] = [];
    for (let t = 0; t < r.threadCapacity; t++) {
      const pooled = this.policy.localPoolSize(t);
      pooledThreads.push(pooled);
      if (pooled > this.peaks[t]!) this.peaks[t] = pooled;
      liveThreads.push(Atomics.load(r.i32, r.threadBase(t) + Thread.LIVE));
    }
    const sample = {
      tMs: Number(process.hrtime.bigint() - this.startNs) / 1e6,
      vmas: Atomics.load(r.i32, Vma.CURRENT),
      pooledGlobal: this.policy.globalPoolSize(),
      pooledThreads,
      liveThreads,
    };
    this.keep(sample);
    // The sampler's clock is the policy's too: a pool that gives idle stacks back does it here.
    this.policy.tick(sample.tMs);
    this.onSample?.(sample);
    return sample;
  }

  /** Adds a sample to the open stretch; a full stretch is closed into the kept samples. */
  private keep(sample: Sample): void {
    const tick = this.tick++;
    if (this.open !== null && Math.floor(tick / this.span) !== Math.floor(this.open.lastTick / this.span)) this.closeStretch(false);
    const o = this.open;
    if (o === null) {
      this.open = { low: sample, high: sample, lowTick: tick, highTick: tick, last: sample, lastTick: tick };
      return;
    }
    if (sample.vmas < o.low.vmas) Object.assign(o, { low: sample, lowTick: tick });
    if (sample.vmas > o.high.vmas) Object.assign(o, { high: sample, highTick: tick });
    Object.assign(o, { last: sample, lastTick: tick });
  }

  /** Keeps the open stretch's low and high in time order (and its last sample, at the run's end). */
  private closeStretch(atEnd: boolean): void {
    const o = this.open;
    if (o === null) return;
    this.open = null;
    const picks = new Map<number, Sample>([
      [o.lowTick, o.low],
      [o.highTick, o.high],
    ]);
    if (atEnd) picks.set(o.lastTick, o.last);
    for (const [tick, sample] of [...picks].sort((a, b) => a[0] - b[0])) {
      this.samples.push(sample);
      this.keptTicks.push(tick);
    }
    if (this.samples.length >= this.maxKept && !atEnd) this.mergeStretches();
  }

  /** Doubles the span: neighbouring stretches become one, keeping its lowest and highest VMA sample. */
  private mergeStretches(): void {
    this.span *= 2;
    const samples = this.samples.splice(0);
    const ticks = this.keptTicks.splice(0);
    for (let i = 0; i < samples.length; ) {
      const stretch = Math.floor(ticks[i]! / this.span);
      let low = i;
      let high = i;
      let j = i + 1;
      for (; j < samples.length && Math.floor(ticks[j]! / this.span) === stretch; j++) {
        if (samples[j]!.vmas < samples[low]!.vmas) low = j;
        if (samples[j]!.vmas > samples[high]!.vmas) high = j;
      }
      for (const k of low === high ? [low] : [Math.min(low, high), Math.max(low, high)]) {
        this.samples.push(samples[k]!);
        this.keptTicks.push(ticks[k]!);
      }
      i = j;
    }
  }

  /** The most each thread had pooled in any sample. */
  peakPooled(): number[] {
    return [...this.peaks];
  }

  progress(): number {
    let done = 0;
    for (let t = 0; t < this.region.threadCapacity; t++) done += this.region.threadWord(t, Thread.PROGRESS);
    return done;
  }
}
