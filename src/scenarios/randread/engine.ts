/**
 * One randread job on one thread: fio's closed loop, served by an IOThread
 * that runs every request in its own coroutine, as QEMU's virtio-blk does.
 *
 *   fill    create `iodepth` request coroutines; each submits its read to the
 *           device and yields
 *   loop    now = clock(); poll the device at now; for each completed request:
 *             enter its coroutine ─► it records its latency and terminates
 *                                    (its stack goes back to the pool)
 *             create the next request's coroutine ─► it submits and yields
 *                                    (a stack comes from the pool, or is mapped)
 *   stop    at durationMs, or when shouldStop() says so: issue nothing more,
 *           drain the requests in flight so every coroutine terminates
 *
 * So every request costs one coroutine create and one terminate: the pool's
 * hot path, which is what OLD (legacy) against NEW (batched) compares.
 *
 * Timing. A request is issued at the time its predecessor's completion was
 * seen (fio resubmits as it reaps), but reaches the device only after its
 * coroutine was created and entered, at a fresh clock reading: the cost of
 * create shows in latency and IOPS, as it does in the guest. Latency runs
 * from issue to the poll that saw the completion. IOPS counts the requests
 * completed by the stop, over the time from the first issue to the stop; the
 * requests drained afterwards are reported apart and counted nowhere else.
 */
import type { Coroutine, CoroutineContext } from '../../coroutine/index.js';
import { CoropoolError } from '../../errors.js';
import type { PolledDevice } from './device.js';
import { LatencyRecorder, type LatencySummary } from './latency.js';

const NS_PER_MS = 1_000_000;
const NS_PER_S = 1_000_000_000;

/**
 * How often the loop asks shouldStop(), in its clock's time: another
 * thread's abort then ends this job within 0.1 ms plus the drain, while an
 * idle spin (one clock read and one poll, about 60 ns) stays free of the call.
 */
const STOP_CHECK_INTERVAL_NS = 100_000;

/** Monotonic time in nanoseconds; only differences matter. */
export type NanosecondClock = () => number;

export interface RandreadJobOptions {
  /** This thread's coroutine context; its StackSource is the pool policy under test. */
  ctx: CoroutineContext;
  /** This thread's device; a device is polled by one thread only. */
  device: PolledDevice;
  /** Bytes per read (4096 for fio's 4k). */
  blockSize: number;
  /** Requests kept in flight. */
  iodepth: number;
  /** How long to keep issuing requests, on `clock`. */
  durationMs: number;
  /** Defaults to process.hrtime; tests pass a virtual clock. */
  clock?: NanosecondClock;
  /** Asked every 0.1 ms of clock time; true stops the job early (another thread aborted). */
  shouldStop?: () => boolean;
}

export interface RandreadJobResult {
  blockSize: number;
  iodepth: number;
  /** Requests completed by the stop: what `iops` and `latencyUs` are computed from. */
  completed: number;
  /** From the first request's issue to the stop, in nanoseconds. */
  elapsedNs: number;
  /** completed / elapsed; 0 when no time passed. */
  iops: number;
  latencyUs: LatencySummary;
  /** The job's latency histogram (HdrHistogram, compressed base64), to merge with other IOThreads'. */
  latencyHistogram: string;
  /** shouldStop() ended the job before durationMs. */
  stoppedEarly: boolean;
  /** Requests in flight at the stop; they were drained (their coroutines terminated) but are not counted above. */
  inFlightAtStop: number;
}

/** process.hrtime, as a number of nanoseconds since the clock was made (exact for 104 days). */
export function createHrtimeClock(): NanosecondClock {
  const origin = process.hrtime.bigint();
  return () => Number(process.hrtime.bigint() - origin);
}

/**
 * Run one job to its end on this thread, busy-polling the device (no sleeps,
 * no timers: it returns only when the job is over). An error from ctx.create
 * — a VMA-exhaustion abort — propagates unchanged and at once: the requests
 * in flight keep their coroutines and stacks, so the pool's counts describe
 * the moment of the failure, as QEMU's abort() leaves them.
 */
export function runRandreadJob(options: RandreadJobOptions): RandreadJobResult {
  checkOptions(options);
  return new ClosedLoopJob(options).run();
}

class ClosedLoopJob {
  private readonly ctx: CoroutineContext;
  private readonly device: PolledDevice;
  private readonly blockSize: number;
  private readonly iodepth: number;
  private readonly durationNs: number;
  private readonly clock: NanosecondClock;
  private readonly shouldStop: (() => boolean) | undefined;

  /** The time of the current poll: when the completions it returns were seen. */
  private nowNs = 0;
  /** False once the job stopped: completions are then drained, not counted. */
  private measuring = true;
  private completed = 0;
  private readonly latencies = new LatencyRecorder();
  /** Device request id → the coroutine waiting for it (QEMU: the request's completion callback opaque). */
  private readonly waiting = new Map<number, Coroutine>();

  constructor(options: RandreadJobOptions) {
    this.ctx = options.ctx;
    this.device = options.device;
    this.blockSize = options.blockSize;
    this.iodepth = options.iodepth;
    this.durationNs = options.durationMs * NS_PER_MS;
    this.clock = options.clock ?? createHrtimeClock();
    this.shouldStop = options.shouldStop;
  }

  /** A request's coroutine body: submit, wait for the completion, record it, end. */
  private static *readRequest(job: ClosedLoopJob): Generator<undefined, void, undefined> {
    const issuedNs = job.nowNs;
    job.submit(job.ctx.self());
    yield;
    job.recordCompletion(issuedNs);
  }

  run(): RandreadJobResult {
    const startNs = (this.nowNs = this.clock());
    for (let i = 0; i < this.iodepth; i++) this.issueRequest();
    const stoppedEarly = this.pollUntilStop(startNs + this.durationNs);
    const elapsedNs = this.nowNs - startNs;
    const inFlightAtStop = this.waiting.size;
    this.measuring = false;
    this.drain();
    return this.result(elapsedNs, stoppedEarly, inFlightAtStop);
  }

  /**
   * The IOThread's busy-poll. The clock is read on every pass: the device is
   * driven by time, so a poll with a stale time could only find nothing.
   * Returns true when shouldStop() ended it, false at the deadline.
   */
  private pollUntilStop(deadlineNs: number): boolean {
    let nextStopCheckNs = this.nowNs + STOP_CHECK_INTERVAL_NS;
    for (;;) {
      const now = (this.nowNs = this.clock());
      let stopRequested = false;
      if (this.shouldStop !== undefined && now >= nextStopCheckNs) {
        stopRequested = this.shouldStop();
        nextStopCheckNs = now + STOP_CHECK_INTERVAL_NS;
      }
      // Decided before reaping: what completes at this poll is still counted,
      // but nothing new is issued once the job is over.
      const stopping = stopRequested || now >= deadlineNs;
      this.reapCompletions(now, !stopping);
      if (stopping) return stopRequested;
    }
  }

  /** After the stop: keep polling until every request in flight has completed and its coroutine ended. */
  private drain(): void {
    while (this.waiting.size > 0) {
      this.nowNs = this.clock();
      this.reapCompletions(this.nowNs, false);
    }
  }

  /** Re-enter the coroutine of each request complete at `now`; keep the loop closed by issuing a successor for each. */
  private reapCompletions(now: number, issueSuccessors: boolean): void {
    const ids = this.device.poll(now);
    for (let i = 0; i < ids.length; i++) {
      this.ctx.enter(this.takeWaiter(ids[i]!));
      if (issueSuccessors) this.issueRequest();
    }
  }

  /** Create a request's coroutine and run it up to its yield (it has submitted by then). */
  private issueRequest(): void {
    const co = this.ctx.create(ClosedLoopJob.readRequest, this);
    this.ctx.enter(co);
  }

  private submit(co: Coroutine): void {
    const id = this.device.submit(this.blockSize, this.clock());
    this.waiting.set(id, co);
  }

  private takeWaiter(id: number): Coroutine {
    const co = this.waiting.get(id);
    if (co === undefined) throw unknownRequestError(id);
    this.waiting.delete(id);
    return co;
  }

  private recordCompletion(issuedNs: number): void {
    if (!this.measuring) return;
    this.completed++;
    this.latencies.record(this.nowNs - issuedNs);
  }

  private result(elapsedNs: number, stoppedEarly: boolean, inFlightAtStop: number): RandreadJobResult {
    return {
      blockSize: this.blockSize,
      iodepth: this.iodepth,
      completed: this.completed,
      elapsedNs,
      iops: elapsedNs > 0 ? (this.completed * NS_PER_S) / elapsedNs : 0,
      latencyUs: this.latencies.summarizeUs(),
      latencyHistogram: this.latencies.encode(),
      stoppedEarly,
      inFlightAtStop,
    };
  }
}

function checkOptions(options: RandreadJobOptions): void {
  if (!Number.isInteger(options.blockSize) || options.blockSize <= 0) {
    throw optionError(`blockSize must be a positive whole number of bytes, got ${options.blockSize}`);
  }
  if (!Number.isInteger(options.iodepth) || options.iodepth <= 0) {
    throw optionError(`iodepth must be a positive integer, got ${options.iodepth}`);
  }
  if (!Number.isFinite(options.durationMs) || options.durationMs < 0) {
    throw optionError(`durationMs must be a finite number ≥ 0, got ${options.durationMs}`);
  }
}

function optionError(message: string): CoropoolError {
  return new CoropoolError('ERR_RANDREAD_OPTIONS', `randread: ${message}`);
}

/** The device returned an id no coroutine waits for: a device or engine bug, never a user error. */
function unknownRequestError(id: number): CoropoolError {
  return new CoropoolError('ERR_RANDREAD_INTERNAL', `randread: the device completed request ${id}, which no coroutine is waiting for`);
}
