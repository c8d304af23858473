/**
 * A runtime that lives across runs: one shared region, one set of worker
 * threads, one pool policy, for programs that host their own coroutines.
 *
 *   open ──► run ──► run ──► … ──► close
 *            │        │               │
 *            │        │               └ every thread's exit notifier, the shared
 *            │        │                 pool drained, the region checked
 *            └────────┴ one part per thread; the parts end without the
 *                       threads' exit, so what a run gives back to the pools
 *                       is there for the next run, as in a long-lived QEMU
 *
 * Runs go one at a time, in the order they were asked for. The counters can
 * be read at any moment (atomic loads only; the main thread never waits).
 */
import { CoropoolError } from "../errors.js";
import { Header, Thread, ThreadStatus, Vma } from "../shared/layout.js";
import type { MutexStats } from "../sync/futex-mutex.js";
import { crossCheck, describeMismatch } from "../stacks/cross-check.js";
import type { DeadThreadReport, AbortSnapshot, ScenarioPart } from "./protocol.js";
import { closeRegion, reclaimDeadThreads, Runtime, type OpenRegion, type PhaseLimits, type RuntimeOptions } from "./runtime.js";
import type { Sample } from "./sampler.js";

/** The shared counters at one moment, read with atomic loads while threads run. */
export interface LiveStats {
  /** Runs finished so far. */
  runs: number;
  stacks: {
    created: number;
    freed: number;
    /** Coroutines created and not yet terminated. */
    live: number;
    /** Stacks in any pool: `pooledGlobal` plus every thread's. */
    pooled: number;
    pooledGlobal: number;
    pooledThreads: number[];
  };
  vmas: { baseline: number; limit: number; current: number; peak: number };
  lock: MutexStats;
}

/** One run of a hosted runtime. */
export interface HostedRunOutcome {
  durationMs: number;
  /** Stacks mapped and unmapped during this run (not before it). */
  stacks: { created: number; freed: number };
  /** The VMA peak of the runtime's life so far. */
  vmaPeak: number;
  /** A thread hit VMA exhaustion (QEMU would have aborted): the runtime takes no more runs. */
  abort: AbortSnapshot | null;
  deadThreads: DeadThreadReport[];
  timedOut: boolean;
  interrupted: boolean;
  /** Each thread's part result, null for a thread that died. */
  parts: unknown[];
  samples: Sample[];
}

/** What closing found: the whole life's totals, and whether every stack was accounted for. */
export interface ClosedStats {
  runs: number;
  stacks: { created: number; freed: number; leaked: number; liveAtEnd: number };
  vmas: { baseline: number; limit: number; peak: number; final: number; backToBaseline: boolean };
  lock: MutexStats;
  /** Stacks left in the shared pool, freed at close. */
  drainedAtClose: number;
  /** Empty when every stack was found in exactly one place. */
  invariantViolations: string[];
  /** Kernel backend: the counter against /proc/self/maps that disagreed, if any. */
  crossCheckMismatches: string[];
}

export class HostedRuntime {
  private readonly runtime: Runtime;
  private readonly opened: OpenRegion;
  private queue: Promise<unknown> = Promise.resolve();
  private closing: Promise<ClosedStats> | null = null;
  private runsDone = 0;
  /** Coroutines runs left unfinished (an abort stops a thread mid-way): they keep their stacks. */
  private unfinished = 0;

  constructor(options: RuntimeOptions, poolSizeIncrease = 0) {
    this.runtime = new Runtime(options);
    this.opened = this.runtime.openRegion();
    if (poolSizeIncrease > 0) this.opened.policy.incPoolSize(poolSizeIncrease);
  }

  get threads(): number {
    return this.runtime.options.threads;
  }

  get closed(): boolean {
    return this.closing !== null;
  }

  /** Runs one part per thread, after any run asked for before it. */
  run(parts: ScenarioPart[], limits: PhaseLimits = {}): Promise<HostedRunOutcome> {
    this.refuseIfClosed("run");
    const next = this.queue.then(() => this.runNow(parts, limits));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async runNow(parts: ScenarioPart[], limits: PhaseLimits): Promise<HostedRunOutcome> {
    const { region } = this.opened;
    if (parts.length !== this.threads) {
      throw new CoropoolError("ERR_RUN_PLAN", `${parts.length} parts for a runtime of ${this.threads} threads; give one part per thread`);
    }
    if (Atomics.load(region.i32, Header.ABORTED) !== 0) {
      throw new CoropoolError(
        "ERR_RUNTIME_ABORTED",
        "an earlier run hit VMA exhaustion (QEMU would have aborted): this runtime takes no more runs; close it and start a new one",
      );
    }
    const before = region.totals();
    const { outcome, sampler } = await this.runtime.runPhase(this.opened, parts, true, limits);
    const { deadThreads } = reclaimDeadThreads(this.opened, outcome.dead);
    this.unfinished += outcome.reports.reduce((n, r) => n + r.coroutinesCreated - r.coroutinesTerminated, 0);
    this.runsDone++;
    if (outcome.callbackFailure) throw outcome.callbackFailure.error;
    const after = region.totals();
    return {
      durationMs: Number(process.hrtime.bigint() - sampler.startNs) / 1e6,
      stacks: { created: after.created - before.created, freed: after.freed - before.freed },
      vmaPeak: region.readU32(Vma.PEAK),
      abort: outcome.reports.map((r) => r.abort).find((a) => a !== null) ?? null,
      deadThreads,
      timedOut: outcome.timedOut,
      interrupted: outcome.interrupted,
      parts: Array.from({ length: this.threads }, (_, t) => outcome.reports.find((r) => r.thread === t)?.part ?? null),
      samples: sampler.samples,
    };
  }

  /** The counters now; usable while a run goes on (not after close). */
  stats(): LiveStats {
    this.refuseIfClosed("stats");
    const { region, policy } = this.opened;
    const totals = region.totals();
    const pooledThreads: number[] = [];
    let live = 0;
    for (let t = 0; t < region.threadCapacity; t++) {
      pooledThreads.push(policy.localPoolSize(t));
      live += Atomics.load(region.i32, region.threadBase(t) + Thread.LIVE);
    }
    const pooledGlobal = policy.globalPoolSize();
    return {
      runs: this.runsDone,
      stacks: {
        created: totals.created,
        freed: totals.freed,
        live,
        pooled: pooledGlobal + pooledThreads.reduce((a, b) => a + b, 0),
        pooledGlobal,
        pooledThreads,
      },
      vmas: {
        baseline: region.readU32(Vma.BASELINE),
        limit: region.readU32(Vma.LIMIT),
        current: Atomics.load(region.i32, Vma.CURRENT),
        peak: region.readU32(Vma.PEAK),
      },
      lock: policy.lockStats(),
    };
  }

  /**
   * Waits for the runs asked for, then every thread exits (its exit notifier
   * runs on its behalf, at a quiescent point), the shared pool is drained,
   * the region is checked and the worker threads stop. Closing again
   * returns the same result.
   */
  close(): Promise<ClosedStats> {
    this.closing ??= this.queue.then(() => this.closeNow());
    return this.closing;
  }

  private async closeNow(): Promise<ClosedStats> {
    const { region, allocator, policy, kernel, crossChecks } = this.opened;
    try {
      for (let t = 0; t < region.threadCapacity; t++) {
        const status = region.threadWord(t, Thread.STATUS);
        if (status === ThreadStatus.PARKED || status === ThreadStatus.UNUSED) policy.exitThread(t);
      }
      const closed = closeRegion(this.opened, this.unfinished);
      if (kernel) crossChecks.push(crossCheck(region, kernel, "after close"));
      const totals = region.totals();
      const vmas = allocator.vmas;
      return {
        runs: this.runsDone,
        stacks: { created: totals.created, freed: totals.freed, leaked: totals.leaked, liveAtEnd: closed.census.live },
        vmas: { baseline: vmas.baseline, limit: vmas.limit, peak: vmas.peak, final: vmas.current, backToBaseline: vmas.current === vmas.baseline },
        lock: policy.lockStats(),
        drainedAtClose: closed.drainedAtShutdown,
        invariantViolations: closed.census.violations,
        crossCheckMismatches: crossChecks.filter((c) => c.counted !== c.expected).map(describeMismatch),
      };
    } finally {
      await this.runtime.close();
    }
  }

  /** Throws ERR_RUNTIME_CLOSED, naming `what` was asked of it, once the runtime is closed. */
  refuseIfClosed(what: string): void {
    if (this.closing !== null) {
      throw new CoropoolError("ERR_RUNTIME_CLOSED", `${what}: this runtime is closed; start a new one`);
    }
  }
}
