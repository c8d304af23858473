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
 * Reads the shared region on a timer from the main thread. Only atomic loads:
 * the main thread never takes the pool lock or waits, and a sample may be a
 * moment's mix of before and after, which is fine for a time series.
 */
export class Sampler {
  readonly samples: Sample[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** The time origin of every sample's tMs. */
  readonly startNs = process.hrtime.bigint();

  constructor(
    private readonly region: SharedRegion,
    private readonly policy: PoolPolicy,
    private readonly onSample?: (sample: Sample) => void,
  ) {}

  start(intervalMs: number): void {
    this.take();
    this.timer = setInterval(() => this.take(), intervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.take();
  }

  take(): Sample {
    const r = this.region;
    const pooledThreads: number[] = [];
    const liveThreads: number[] = [];
    for (let t = 0; t < r.threadCapacity; t++) {
      pooledThreads.push(this.policy.localPoolSize(t));
      liveThreads.push(Atomics.load(r.i32, r.threadBase(t) + Thread.LIVE));
    }
    const sample = {
      tMs: Number(process.hrtime.bigint() - this.startNs) / 1e6,
      vmas: Atomics.load(r.i32, Vma.CURRENT),
      pooledGlobal: this.policy.globalPoolSize(),
      pooledThreads,
      liveThreads,
    };
    this.samples.push(sample);
    // The sampler's clock is the policy's too: a pool that gives idle stacks back does it here.
    this.policy.tick(sample.tMs);
    this.onSample?.(sample);
    return sample;
  }

  /** The most each thread had pooled in any sample. */
  peakPooled(): number[] {
    return this.region.threadCapacity === 0
      ? []
      : Array.from({ length: this.region.threadCapacity }, (_, t) => Math.max(...this.samples.map((s) => s.pooledThreads[t]!)));
  }

  progress(): number {
    let done = 0;
    for (let t = 0; t < this.region.threadCapacity; t++) done += this.region.threadWord(t, Thread.PROGRESS);
    return done;
  }
}
