/**
 * The randread engine on one thread: the device model, HDR latency
 * percentiles (hand-computed bucket edges), and the closed loop — checked on a virtual clock where every
 * figure is known by hand, plus one short run on the real clock.
 */
import { describe, expect, it } from 'vitest';
import { CoroutineContext } from '../src/coroutine/index.js';
import { CoropoolError, STACK_ALLOC_FAILED, VmaExhaustedError } from '../src/errors.js';
import { BlockDevice, DEFAULT_DEVICE_MODEL, type PolledDevice } from '../src/scenarios/randread/device.js';
import { runRandreadJob, type RandreadJobOptions, type RandreadJobResult } from '../src/scenarios/randread/engine.js';
import { LatencyRecorder, mergedPercentilesUs } from '../src/scenarios/randread/latency.js';
import { CountingStackSource } from "./helpers/counting-stack-source.js";

const KIB = 1024;
const SIZE_4K = 4 * KIB;
const SIZE_128K = 128 * KIB;
const NS_PER_US = 1_000;
const NS_PER_MS = 1_000_000;
const NS_PER_S = 1_000_000_000;

/** 4 KiB at 2,048 MB/s is exactly 2,000 ns, so round trips are whole numbers. */
const FAST_4K = { latencyUs: 8, bandwidthMBps: 2_048 } as const;
const FAST_4K_TRANSFER_NS = 2_000;
const FAST_4K_LATENCY_NS = 8_000;
/** 128 KiB at 1,000 MB/s is exactly 131,072 ns. */
const SLOW_128K = { latencyUs: 100, bandwidthMBps: 1_000 } as const;
const SLOW_128K_TRANSFER_NS = 131_072;
const SLOW_128K_LATENCY_NS = 100_000;


/**
 * A real BlockDevice on virtual time with zero software cost: the clock
 * stands still while the IOThread works, and a poll that finds nothing jumps
 * it to the next completion — the idle spin "lasts" exactly until something
 * completes. So every figure of a run is what the device model alone gives.
 * It also logs each completion with the time the poll saw it.
 */
class ZeroCostTime implements PolledDevice {
  nowNs = 0;
  readonly completions: { id: number; atNs: number }[] = [];
  readonly clock = (): number => this.nowNs;

  constructor(readonly device: BlockDevice) {}

  get inFlight(): number {
    return this.device.inFlight;
  }

  submit(sizeBytes: number, nowNs: number): number {
    return this.device.submit(sizeBytes, nowNs);
  }

  poll(nowNs: number): readonly number[] {
    const ids = this.device.poll(nowNs);
    for (const id of ids) this.completions.push({ id, atNs: nowNs });
    if (ids.length === 0) this.idle();
    return ids;
  }

  nextCompletionNs(): number {
    return this.device.nextCompletionNs();
  }

  /** With nothing in flight a correct loop never spins; step anyway so a broken one reaches its deadline. */
  private idle(): void {
    const next = this.device.nextCompletionNs();
    this.nowNs = Number.isFinite(next) ? next : this.nowNs + NS_PER_US;
  }
}

interface VirtualRun {
  result: RandreadJobResult;
  ctx: CoroutineContext;
  stacks: CountingStackSource;
  time: ZeroCostTime;
}

function runVirtual(
  model: { latencyUs: number; bandwidthMBps: number },
  job: Pick<RandreadJobOptions, 'blockSize' | 'iodepth' | 'durationMs' | 'shouldStop'>,
): VirtualRun {
  const stacks = new CountingStackSource();
  const ctx = new CoroutineContext(stacks);
  const time = new ZeroCostTime(new BlockDevice(model));
  const result = runRandreadJob({ ...job, ctx, device: time, clock: time.clock });
  return { result, ctx, stacks, time };
}

/** Every coroutine ended and every stack went back exactly once. */
function expectAllStacksReleased({ ctx, stacks }: VirtualRun | { ctx: CoroutineContext; stacks: CountingStackSource }): void {
  expect(ctx.live).toBe(0);
  expect(stacks.releases).toBe(stacks.acquires);
  expect(stacks.inUse.size).toBe(0);
}

describe('BlockDevice', () => {
  it('completes a lone request after its transfer plus the fixed latency, once', () => {
    const device = new BlockDevice(FAST_4K);
    const id = device.submit(SIZE_4K, 1_000);
    const doneAt = 1_000 + FAST_4K_TRANSFER_NS + FAST_4K_LATENCY_NS;
    expect(device.nextCompletionNs()).toBe(doneAt);
    expect(device.poll(doneAt - 1)).toEqual([]);
    expect(device.poll(doneAt)).toEqual([id]);
    expect(device.poll(doneAt + 1)).toEqual([]);
    expect(device.inFlight).toBe(0);
    expect(device.nextCompletionNs()).toBe(Infinity);
  });

  it('streams one transfer at a time, so 128k reads queue behind each other', () => {
    const device = new BlockDevice(SLOW_128K);
    const ids = [0, 1, 2].map(() => device.submit(SIZE_128K, 0));
    const expected = [1, 2, 3].map((k) => SLOW_128K_LATENCY_NS + k * SLOW_128K_TRANSFER_NS);
    for (let k = 0; k < ids.length; k++) {
      expect(device.nextCompletionNs()).toBe(expected[k]);
      expect(device.poll(expected[k]!)).toEqual([ids[k]]);
    }
  });

  it('overlaps the fixed latency: a request starts as soon as the data path is free', () => {
    const device = new BlockDevice(FAST_4K);
    device.submit(SIZE_4K, 0); // transfer 0..2000, done at 10,000
    const second = device.submit(SIZE_4K, 2_500); // path free at 2,000: starts at once
    device.poll(10_000);
    expect(device.nextCompletionNs()).toBe(2_500 + FAST_4K_TRANSFER_NS + FAST_4K_LATENCY_NS);
    expect(device.poll(12_500)).toEqual([second]);
  });

  it('returns completions in time order across mixed sizes and a ring that wraps and grows', () => {
    const device = new BlockDevice(FAST_4K);
    let now = 0;
    const polled: number[] = [];
    // 300 requests (the ring starts at 64), polled part way so head and tail wrap.
    for (let i = 0; i < 300; i++) {
      now += i % 7 === 0 ? 5_000 : 100;
      device.submit(i % 3 === 0 ? SIZE_128K : SIZE_4K, now);
      if (i % 50 === 49) polled.push(...device.poll(now));
    }
    while (device.inFlight > 0) {
      now = device.nextCompletionNs();
      polled.push(...device.poll(now));
    }
    expect(polled).toEqual([...Array(300).keys()]); // one data path, fixed latency: FIFO
  });

  it('reports completion times that never decrease', () => {
    const device = new BlockDevice(DEFAULT_DEVICE_MODEL);
    const times: number[] = [];
    let now = 0;
    for (let i = 0; i < 100; i++) {
      device.submit(i % 2 === 0 ? SIZE_4K : SIZE_128K, now);
      now += 3_000;
    }
    while (device.inFlight > 0) {
      times.push(device.nextCompletionNs());
      now = Math.max(now, device.nextCompletionNs());
      device.poll(now);
    }
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('refuses time that goes backwards, a bad size, and a bad model, with codes', () => {
    const device = new BlockDevice(FAST_4K);
    device.poll(1_000);
    expect(() => device.submit(SIZE_4K, 999)).toThrow(expect.objectContaining({ code: 'ERR_DEVICE_TIME' }));
    expect(() => device.submit(0, 2_000)).toThrow(expect.objectContaining({ code: 'ERR_DEVICE_REQUEST' }));
    expect(() => device.submit(1.5, 2_000)).toThrow(CoropoolError);
    expect(() => new BlockDevice({ latencyUs: -1, bandwidthMBps: 1 })).toThrow(expect.objectContaining({ code: 'ERR_DEVICE_MODEL' }));
    expect(() => new BlockDevice({ latencyUs: 1, bandwidthMBps: 0 })).toThrow(expect.objectContaining({ code: 'ERR_DEVICE_MODEL' }));
  });

  it("defaults to the seed's hardware: ~110k IOPS at 4k iodepth 1, ~17.5k IOPS bandwidth-bound at 128k", () => {
    const device = new BlockDevice();
    const roundTrip4kNs = device.fixedLatencyNs + device.transferNs(SIZE_4K);
    expect(NS_PER_S / roundTrip4kNs).toBeCloseTo(110_000, -2);
    expect(NS_PER_S / device.transferNs(SIZE_128K)).toBeCloseTo(17_548, 0);
  });
});

describe('LatencyRecorder (HDR histogram, 3 significant digits)', () => {
  // Bucket edges by hand: below 2048 ns a bucket is 1 ns wide; from 2^k ns it
  // is 2^(k-10) ns wide, and a percentile reads as its bucket's highest value.
  it('applies the nearest-rank rule, rank ceil(P/100 × n), exactly where buckets are 1 ns wide', () => {
    const recorder = new LatencyRecorder();
    for (const ns of [7, 3, 10, 1, 5, 9, 2, 8, 4, 6]) recorder.record(ns);
    expect(recorder.summarizeUs()).toEqual({
      p50: 0.005, // rank ceil(5.0) = 5
      p90: 0.009, // rank ceil(9.0) = 9
      p99: 0.01, // rank ceil(9.9) = 10
      p999: 0.01, // rank ceil(9.99) = 10
      min: 0.001,
      max: 0.01,
      mean: 0.0055,
    });
    const one = new LatencyRecorder();
    one.record(42);
    expect(one.summarizeUs().p50).toBe(0.042); // a single sample is every percentile
  });

  it('summarizes a hand-computed distribution in microseconds', () => {
    // 998 requests of 10 µs, one of 500 µs, one of 9 ms, recorded out of order.
    const recorder = new LatencyRecorder();
    recorder.record(9_000 * NS_PER_US);
    for (let i = 0; i < 998; i++) recorder.record(10 * NS_PER_US);
    recorder.record(500 * NS_PER_US);
    expect(recorder.count).toBe(1_000);
    expect(recorder.summarizeUs()).toEqual({
      // 10,000 ns lies in [8192, 16384): buckets of 8 ns, [10,000, 10,007].
      p50: 10.007, // rank 500
      p90: 10.007, // rank 900
      p99: 10.007, // rank 990
      // 500,000 ns lies in [2^18, 2^19): buckets of 256 ns, [499,968, 500,223].
      p999: 500.223, // rank 999
      min: 10, // exact
      max: 9_000, // exact (its bucket would read 9,003.007)
      mean: (998 * 10 + 500 + 9_000) / 1_000, // 19.48, exact
    });
  });

  it('reads p50/p90/p99/p99.9 off 1..1000 µs at ranks 500, 900, 990, 999, each within 1/1024 above', () => {
    const recorder = new LatencyRecorder();
    for (let i = 1_000; i >= 1; i--) recorder.record(i * NS_PER_US);
    expect(recorder.summarizeUs()).toEqual({
      p50: 500.223, // 500,000 ns: buckets of 256 ns from 2^18
      p90: 900.095, // 900,000 ns: buckets of 512 ns from 2^19, [899,584, 900,095]
      p99: 990.207, // 990,000 ns: [989,696, 990,207]
      p999: 999.423, // 999,000 ns: [998,912, 999,423]
      min: 1,
      max: 1_000,
      mean: 500.5,
    });
    const summary = recorder.summarizeUs();
    for (const [reported, exact] of [[summary.p50, 500], [summary.p90, 900], [summary.p99, 990], [summary.p999, 999]] as const) {
      expectWithinHdrPrecision(reported, exact);
    }
  });

  it('gives NaN figures when nothing was recorded', () => {
    expect(Object.values(new LatencyRecorder().summarizeUs()).every(Number.isNaN)).toBe(true);
  });
});

/** HDR at 3 significant digits: never below the exact sample, at most 1/1024 above it. */
function expectWithinHdrPrecision(reportedUs: number, exactUs: number): void {
  expect(reportedUs).toBeGreaterThanOrEqual(exactUs);
  expect(reportedUs).toBeLessThanOrEqual(exactUs * (1 + 1 / 1024));
}

describe('runRandreadJob on zero-cost virtual time', () => {
  it('at iodepth 1 every latency is exactly L+T and IOPS is 1e9/(L+T)', () => {
    const run = runVirtual(FAST_4K, { blockSize: SIZE_4K, iodepth: 1, durationMs: 1 });
    const roundTripNs = FAST_4K_LATENCY_NS + FAST_4K_TRANSFER_NS; // 10,000 ns
    const roundTripUs = roundTripNs / NS_PER_US;
    expect(run.result).toEqual({
      blockSize: SIZE_4K,
      iodepth: 1,
      completed: NS_PER_MS / roundTripNs, // 100, the last one exactly at the deadline
      elapsedNs: NS_PER_MS,
      iops: NS_PER_S / roundTripNs, // 100,000
      // 10,000 ns reads as its HDR bucket's top, 10,007 ns; min, max and mean are exact.
      latencyUs: { p50: 10.007, p90: 10.007, p99: 10.007, p999: 10.007, min: roundTripUs, max: roundTripUs, mean: roundTripUs },
      latencyHistogram: expect.any(String),
      stoppedEarly: false,
      inFlightAtStop: 0,
    });
    // The histogram that crosses to the main thread holds the same 100 samples.
    expect(mergedPercentilesUs([run.result.latencyHistogram])).toEqual({ p50: 10.007, p90: 10.007, p99: 10.007, p999: 10.007 });
    expectAllStacksReleased(run);
  });

  it('at iodepth 4 below saturation the latency overlaps: 4 requests per L+T', () => {
    const run = runVirtual(FAST_4K, { blockSize: SIZE_4K, iodepth: 4, durationMs: 1 });
    const roundTripNs = FAST_4K_LATENCY_NS + FAST_4K_TRANSFER_NS;
    // The first four queue on the data path (L+T, L+2T, L+3T, L+4T); every
    // successor finds it free and takes exactly L+T. Completions fall at
    // 10k·m + {0, 2k, 4k, 6k} ns; the deadline at 1 ms sees m = 1..99 and one more.
    const latenciesNs = [...Array(394).fill(roundTripNs), 12_000, 14_000, 16_000];
    expect(run.result.completed).toBe(397);
    expect(run.result.iops).toBe(397 * 1_000);
    expect(run.result.inFlightAtStop).toBe(3);
    expect(run.result.latencyUs).toEqual({
      p50: 10.007, // 10,000 ns in an 8 ns bucket
      p90: 10.007,
      p99: 10.007, // rank ceil(393.03) = 394
      p999: 16.007, // rank ceil(396.6) = 397: 16,000 ns in an 8 ns bucket
      min: 10,
      max: 16,
      mean: latenciesNs.reduce((a, b) => a + b, 0) / 397 / NS_PER_US,
    });
    // Steady state: four completions every L+T, four times iodepth 1's rate.
    const steady = run.time.completions.filter((c) => c.atNs >= 2 * roundTripNs && c.atNs < 3 * roundTripNs);
    expect(steady.map((c) => c.atNs)).toEqual([20_000, 22_000, 24_000, 26_000]);
    expectAllStacksReleased(run);
  });

  it('at iodepth 8, 128k reads are bandwidth-bound: one completion every size/bandwidth, exactly', () => {
    const iodepth = 8;
    const run = runVirtual(SLOW_128K, { blockSize: SIZE_128K, iodepth, durationMs: 20 });
    const T = SLOW_128K_TRANSFER_NS;
    const L = SLOW_128K_LATENCY_NS;
    // Completion k (1-based) at L + k·T; the first at or past 20 ms is k = 152.
    const completed = 152;
    const stopNs = L + completed * T;
    expect(run.result.completed).toBe(completed);
    expect(run.result.elapsedNs).toBe(stopNs);
    expect(run.result.iops).toBe((completed * NS_PER_S) / stopNs);
    expect(run.result.inFlightAtStop).toBe(iodepth - 1);

    const times = run.time.completions.map((c) => c.atNs);
    const bandwidthIops = (SLOW_128K.bandwidthMBps * 1_000_000) / SIZE_128K;
    for (let k = 1; k < times.length; k++) {
      expect(NS_PER_S / (times[k]! - times[k - 1]!)).toBe(bandwidthIops);
    }
    // Little's law in steady state: 8 in flight at one per T is 8·T each.
    // The first eight took L+T .. L+8T; L+8T is the maximum.
    expect(run.result.latencyUs).toMatchObject({
      min: (L + T) / NS_PER_US,
      max: (L + iodepth * T) / NS_PER_US,
    });
    // 8·T = 2^20 ns exactly (buckets of 1,024 ns there); L + 8·T = 1,148,576 ns, in [1,147,904, 1,148,927].
    expect(run.result.latencyUs.p50).toBe(1_049.599);
    expect(run.result.latencyUs.p99).toBe(1_049.599);
    expect(run.result.latencyUs.p999).toBe(1_148.927);
    expectWithinHdrPrecision(run.result.latencyUs.p50, (iodepth * T) / NS_PER_US);
    expectWithinHdrPrecision(run.result.latencyUs.p999, (L + iodepth * T) / NS_PER_US);
    expectAllStacksReleased(run);
  });

  it('sees completions in time order, in submission order', () => {
    const run = runVirtual(DEFAULT_DEVICE_MODEL, { blockSize: SIZE_128K, iodepth: 16, durationMs: 5 });
    const { completions } = run.time;
    expect(completions.length).toBe(run.result.completed + run.result.inFlightAtStop);
    for (let k = 1; k < completions.length; k++) {
      expect(completions[k]!.atNs).toBeGreaterThanOrEqual(completions[k - 1]!.atNs);
      expect(completions[k]!.id).toBe(completions[k - 1]!.id + 1);
    }
  });

  it('creates one coroutine per request: completed + in flight at the stop, each stack released once', () => {
    for (const iodepth of [1, 3, 8, 64]) {
      const run = runVirtual(SLOW_128K, { blockSize: SIZE_128K, iodepth, durationMs: 3 });
      expect(run.ctx.created).toBe(run.result.completed + run.result.inFlightAtStop);
      expect(run.stacks.acquires).toBe(run.ctx.created);
      expect(run.result.inFlightAtStop).toBeLessThanOrEqual(iodepth);
      expectAllStacksReleased(run);
    }
  });

  it('stops when shouldStop() says so, checked every 0.1 ms of clock time', () => {
    let calls = 0;
    const shouldStop = (): boolean => ++calls === 3;
    // 1e6 ms of virtual time would be 100 million requests: only shouldStop can end this.
    const run = runVirtual(FAST_4K, { blockSize: SIZE_4K, iodepth: 1, durationMs: 1e6, shouldStop });
    expect(calls).toBe(3); // at 0.1, 0.2 and 0.3 ms
    expect(run.result).toMatchObject({ stoppedEarly: true, elapsedNs: 300_000, completed: 30, iops: 100_000, inFlightAtStop: 0 });
    expectAllStacksReleased(run);
  });

  it('lets an error from ctx.create propagate unchanged, leaving the in-flight requests as they were', () => {
    const stacks = new CountingStackSource();
    const exhausted = new VmaExhaustedError(STACK_ALLOC_FAILED);
    stacks.failAfter = { acquires: 20, error: exhausted };
    const ctx = new CoroutineContext(stacks);
    const time = new ZeroCostTime(new BlockDevice(FAST_4K));
    let thrown: unknown;
    try {
      runRandreadJob({ ctx, device: time, clock: time.clock, blockSize: SIZE_4K, iodepth: 8, durationMs: 1 });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBe(exhausted);
    // 20 created, 13 completed (each freeing its stack), 7 still waiting on the device.
    expect(ctx.created).toBe(20);
    expect(ctx.live).toBe(7);
    expect(time.inFlight).toBe(7);
  });

  it('rejects bad options with a code', () => {
    const ctx = new CoroutineContext(new CountingStackSource());
    const device = new BlockDevice();
    const base = { ctx, device, blockSize: SIZE_4K, iodepth: 1, durationMs: 1 };
    for (const bad of [{ blockSize: 0 }, { iodepth: 0 }, { iodepth: 1.5 }, { durationMs: -1 }, { durationMs: NaN }]) {
      expect(() => runRandreadJob({ ...base, ...bad })).toThrow(expect.objectContaining({ code: 'ERR_RANDREAD_OPTIONS' }));
    }
    expect(ctx.created).toBe(0);
  });
});

describe('runRandreadJob on the real clock', () => {
  it('runs 20 ms on the default device and reports finite, positive figures', () => {
    const stacks = new CountingStackSource();
    const ctx = new CoroutineContext(stacks);
    const result = runRandreadJob({ ctx, device: new BlockDevice(), blockSize: SIZE_4K, iodepth: 8, durationMs: 20 });
    expect(result.completed).toBeGreaterThan(0);
    expect(result.elapsedNs).toBeGreaterThanOrEqual(20 * NS_PER_MS);
    expect(result.stoppedEarly).toBe(false);
    for (const figure of [result.iops, ...Object.values(result.latencyUs)]) {
      expect(Number.isFinite(figure) && figure > 0).toBe(true);
    }
    expect(result.latencyUs.min).toBeLessThanOrEqual(result.latencyUs.p50);
    // A percentile reads as its bucket's top: at most 1/1024 past the exact maximum.
    expect(result.latencyUs.p999).toBeLessThanOrEqual(result.latencyUs.max * (1 + 1 / 1024));
    expect(ctx.created).toBe(result.completed + result.inFlightAtStop);
    expectAllStacksReleased({ ctx, stacks });
  });
});

describe("latency percentiles over several IOThreads", () => {
  it("merging the jobs' histograms gives the percentiles of all their requests together", () => {
    const one = new LatencyRecorder();
    const two = new LatencyRecorder();
    const all = new LatencyRecorder();
    // Thread one: 1..90 us; thread two: 91..100 us, the slow tail.
    for (let us = 1; us <= 100; us++) {
      (us <= 90 ? one : two).record(us * 1000);
      all.record(us * 1000);
    }
    const merged = mergedPercentilesUs([one.encode(), two.encode()]);
    const { p50, p90, p99, p999 } = all.summarizeUs();
    expect(merged).toEqual({ p50, p90, p99, p999 });
    // Nearest rank over the 100 samples: p50 is the 50th, p99 the 99th (within the histogram's 1/1024).
    expect(merged.p50).toBeGreaterThanOrEqual(50);
    expect(merged.p50).toBeLessThan(50 * (1 + 1 / 1024));
    expect(merged.p99).toBeGreaterThanOrEqual(99);
    expect(merged.p99).toBeLessThan(99 * (1 + 1 / 1024));
    // Neither thread alone says this: the first thread's p99 is under 90 us.
    expect(one.summarizeUs().p99).toBeLessThan(91);
  });

  it("no requests at all: NaN, not 0", () => {
    expect(mergedPercentilesUs([new LatencyRecorder().encode()])).toEqual({ p50: NaN, p90: NaN, p99: NaN, p999: NaN });
  });
});
