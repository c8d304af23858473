import { join } from "node:path";
import { Piscina } from "piscina";
import { CoropoolError, InputError } from "../errors.js";
import { describeThrown } from "../message-text.js";
import { crossCheck, describeMismatch, type CrossCheck } from "../stacks/cross-check.js";
import { KernelStackBackend, kernelBackendUnavailableReason } from "../stacks/kernel-backend.js";
import { checkRegion, initialPoolMaxSize, openPolicy, policyId, type PolicyName, type PoolPolicy } from "../pools/index.js";
import { projectRoot } from "../project-root.js";
import { BARRIER_I32_BASE, Header, Thread, ThreadStatus } from "../shared/layout.js";
import { SharedRegion } from "../shared/region.js";
import { StackAllocator } from "../stacks/stack-allocator.js";
import { defaultBaselineVmas, poolHardMaxSize, readMaxMapCount } from "../vma/limits.js";
import type { ScenarioPart, TestHooks, WorkerReport, WorkerTask } from "./protocol.js";
import { markDead, reclaimDeadThread, reclaimOrphanedGlobalStacks, threadOfTask } from "./dead-threads.js";
import { Barrier } from "../sync/barrier.js";
import { readThreadStats, type RunResult } from "./result.js";
import { Sampler, type Sample } from "./sampler.js";
import { CallbackFailure, STOP_GRACE_MS, STOP_POLL_MS, stopReason, stopWhen, type StopCause } from "./run-stop.js";
import { StopControl } from "./stop-control.js";

export interface RuntimeOptions {
  /** Worker threads (IOThreads, plus the main loop where a scenario has one). */
  threads: number;
  policy: PolicyName;
  /** The VMA limit; default: the host's vm.max_map_count (65530 if unreadable). */
  maxMapCount?: number;
  /** VMAs the rest of the process uses; default: this process's /proc/self/maps. */
  baselineVmas?: number;
  /** batched: no hard cap from max_map_count (QEMU's practical behaviour). */
  uncapped?: boolean;
  /** Most stacks that may exist at once (1 to MAX_STACK_SLOTS); default: what the VMA limit allows, at most MAX_DEFAULT_STACK_CAPACITY. */
  stackSlots?: number;
  sampleIntervalMs?: number;
  /** Any barrier wait longer than this means a thread is stuck: the run fails, never hangs. */
  barrierTimeoutMs?: number;
  /** Called on the main thread with the units of work done so far. */
  onProgress?: (done: number) => void;
  /** Called on the main thread with every sample of the shared counters. */
  onSample?: (sample: Sample) => void;
  /** Called as soon as a worker thread fails (before the others are waited for). */
  onWorkerFailure?: (reason: string) => void;
  /**
   * A run not finished by then is stopped: its workers are terminated and
   * reported as dead (a coroutine that never yields back cannot be
   * interrupted any other way).
   */
  timeoutMs?: number;
  /** Deterministic failure injection (reliability tests only). */
  testHooks?: TestHooks;
  /** Stops the run when it fires: its workers are terminated and it is reported as interrupted. */
  signal?: AbortSignal;
  /** Run the invariant checker at every phase boundary (on top of the one after shutdown). */
  check?: boolean;
  /** simulated: accounting only; kernel: every stack a real mmap + mprotect (Linux, koffi). */
  backend?: BackendName;
  /** Kernel backend: bytes per stack (default 1 MiB, as QEMU), plus a guard page. */
  stackSize?: number;
  /**
   * Kernel backend only, for the child process that reproduces the real
   * abort: let the run go up to the host's real limit, and die like QEMU.
   */
  realLimitChild?: boolean;
}

export type BackendName = "simulated" | "kernel";
export const BACKEND_NAMES: BackendName[] = ["simulated", "kernel"];

/**
 * VMAs the in-process kernel backend keeps free below the host's real limit:
 * a Node process that truly runs out of VMAs dies inside V8 (std::bad_alloc),
 * so the runtime must refuse first. Runs that want the real abort use a child.
 */
export const KERNEL_SAFETY_MARGIN_VMAS = 4096;

/** How the workers' parts ended: the reports of those that finished, and the threads that died. */
export interface PartsOutcome {
  reports: WorkerReport[];
  /**
   * The threads that did not finish their part: those whose worker died,
   * and on a stop every other one (stopped at a safe point, terminated, or
   * not started yet). `exitRan`: its pools are as its exit (or its last
   * part) left them; else the runtime frees what it held.
   */
  dead: { thread: number; reason: string; exitRan: boolean }[];
  timedOut: boolean;
  /** The run's AbortSignal stopped it. */
  interrupted: boolean;
  /** A callback of the caller's threw: the run stopped, and rejects with this once its stacks are accounted for. */
  callbackFailure: { error: unknown } | null;
}

/** The region a runtime works on, with the views the main thread keeps on it. */
export interface OpenRegion {
  region: SharedRegion;
  kernel: KernelStackBackend | null;
  allocator: StackAllocator;
  policy: PoolPolicy;
  /** Kernel mode: the counter against /proc/self/maps, from "at start" on. */
  crossChecks: CrossCheck[];
}

/** A phase's own time limit and AbortSignal, in place of the runtime's. */
export interface PhaseLimits {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** What one run does: a part per thread, and the pool-size increase the devices bring. */
export interface RunPlan {
  parts: ScenarioPart[];
  poolSizeIncrease: number;
  /** Units of progress the parts report in all (for a progress bar); 0 if unknown. */
  progressUnits?: number;
}

/** Slots allocated at most by default: 2^21 stacks (42 MiB of table) is far past any real limit's half. */
export const MAX_DEFAULT_STACK_CAPACITY = 1 << 21;
/** The most slots a run may ask for (stackSlots, --stack-slots): 2^25 stacks, 640 MiB of table. */
export const MAX_STACK_SLOTS = 1 << 25;
const DEFAULT_SAMPLE_INTERVAL_MS = 5;
const DEFAULT_BARRIER_TIMEOUT_MS = 60_000;
const DEFAULT_RUN_TIMEOUT_MS = 600_000;

type DefaultedOptions =
  | "threads"
  | "policy"
  | "maxMapCount"
  | "baselineVmas"
  | "uncapped"
  | "sampleIntervalMs"
  | "barrierTimeoutMs"
  | "backend"
  | "timeoutMs";

/**
 * The main thread's side: it creates the shared region for each run, hands
 * each piscina worker its part, samples the shared counters while the run
 * goes on (never blocking), then shuts the pools down and checks that every
 * stack was accounted for.
 */
export class Runtime {
  readonly options: Required<Pick<RuntimeOptions, DefaultedOptions>> & Omit<RuntimeOptions, DefaultedOptions>;
  private pool: Piscina | null = null;

  constructor(options: RuntimeOptions) {
    if (!Number.isInteger(options.threads) || options.threads < 1) {
      throw new CoropoolError("ERR_RUNTIME_OPTIONS", `threads must be a positive integer, got ${options.threads}`);
    }
    // In-process real stacks stay below the host's limit by the safety margin unless told otherwise.
    const hostLimit = readMaxMapCount().value;
    const defaultLimit = options.backend === "kernel" && !options.realLimitChild ? hostLimit - KERNEL_SAFETY_MARGIN_VMAS : hostLimit;
    this.options = {
      maxMapCount: defaultLimit,
      // Read /proc/self/maps only when the caller gave no baseline.
      baselineVmas: options.baselineVmas ?? defaultBaselineVmas().value,
      uncapped: false,
      sampleIntervalMs: DEFAULT_SAMPLE_INTERVAL_MS,
      barrierTimeoutMs: DEFAULT_BARRIER_TIMEOUT_MS,
      backend: "simulated",
      timeoutMs: DEFAULT_RUN_TIMEOUT_MS,
      ...stripUndefined(options),
    };
    if (this.options.backend === "kernel") this.checkKernelMode();
  }

  /**
   * The kernel backend must be available. Its limit was checked where the
   * options were resolved (src/options/scenario-fit.ts: an in-process run
   * stays KERNEL_SAFETY_MARGIN_VMAS below the host's real limit).
   */
  private checkKernelMode(): void {
    const reason = kernelBackendUnavailableReason();
    if (reason !== null) throw new InputError("ERR_BACKEND", reason);
  }

  get hardMaxSize(): number {
    return poolHardMaxSize(this.options.maxMapCount, this.options.uncapped);
  }

  async run(plan: RunPlan): Promise<RunResult> {
    const { threads, policy: policyName } = this.options;
    if (plan.parts.length !== threads) {
      throw new CoropoolError("ERR_RUN_PLAN", `the plan has ${plan.parts.length} parts for ${threads} threads`);
    }
    const opened = this.openRegion();
    const { region, kernel, allocator, policy, crossChecks } = opened;
    if (plan.poolSizeIncrease > 0) policy.incPoolSize(plan.poolSizeIncrease);
    const { outcome, sampler } = await this.runPhase(opened, plan.parts, false);
    const { reports, timedOut, interrupted } = outcome;
    const durationMs = Number(process.hrtime.bigint() - sampler.startNs) / 1e6;
    const { deadThreads, reclaimedInFlight, drainedAtShutdown, strandedMappingsReleased, census } = shutDown(region, allocator, policy, outcome);
    if (outcome.callbackFailure) throw outcome.callbackFailure.error;
    if (kernel) crossChecks.push(...reports.flatMap((r) => r.crossChecks), crossCheck(region, kernel, "after shutdown"));
    const totals = region.totals();
    // Several threads may fail at once; the one reported is the first, as the header recorded it.
    const firstThread = region.readU32(Header.ABORTED_THREAD) - 1;
    const aborts = reports.map((r) => r.abort).filter((a) => a !== null);
    const abort = aborts.find((a) => a.thread === firstThread) ?? aborts[0] ?? null;
    const peakPooled = sampler.peakPooled();
    // Indexed by thread; a thread that died has no report.
    const byThread = Array.from({ length: threads }, (_, t) => reports.find((r) => r.thread === t) ?? null);
    return {
      policy: policyName,
      threads,
      // A run stopped early did not complete, even if none of its threads had started.
      completed: abort === null && deadThreads.length === 0 && !timedOut && !interrupted,
      deadThreads,
      reclaimedInFlight,
      timedOut,
      interrupted,
      abort,
      durationMs,
      stacks: { created: totals.created, freed: totals.freed, leaked: totals.leaked, liveAtEnd: census.live },
      vmas: {
        baseline: allocator.vmas.baseline,
        limit: allocator.vmas.limit,
        peak: allocator.vmas.peak,
        final: allocator.vmas.current,
        backToBaseline: allocator.vmas.current === allocator.vmas.baseline,
      },
      pool: { maxSize: region.readU32(Header.POOL_MAX_SIZE), hardMaxSize: region.readU32(Header.HARD_MAX_SIZE), drainedAtShutdown },
      strandedMappingsReleased,
      lock: policy.lockStats(),
      perThread: byThread.map((_, t) => readThreadStats(region, t, peakPooled[t] ?? 0)),
      samples: sampler.samples,
      invariantViolations: census.violations,
      phaseChecks: [...reports.flatMap((r) => r.phaseChecks), { point: "after shutdown", violations: census.violations }],
      backend: this.options.backend,
      crossChecks,
      crossCheckMismatches: crossChecks.filter((c) => c.counted !== c.expected).map(describeMismatch),
      parts: byThread.map((r) => (r ? r.part : null)),
    };
  }

  /** A new shared region for this runtime's options, with the views the main thread keeps on it. */
  openRegion(): OpenRegion {
    const region = this.createRegion();
    const kernel = this.options.backend === "kernel" ? KernelStackBackend.create(region.stackCapacity, this.options.stackSize) : null;
    const allocator = new StackAllocator(region, kernel ?? undefined);
    const crossChecks: CrossCheck[] = kernel ? [crossCheck(region, kernel, "at start")] : [];
    return { region, kernel, allocator, policy: openPolicy(region, allocator), crossChecks };
  }

  /**
   * One part per thread on an open region, sampled and with progress
   * reported while it runs. `keepThreads`: the parts end without their
   * threads' exit, so the pools stay as they are for the next phase (a
   * hosted runtime's runs); otherwise every thread exits at the end.
   */
  async runPhase(
    opened: OpenRegion,
    parts: ScenarioPart[],
    keepThreads: boolean,
    limits: PhaseLimits = {},
  ): Promise<{ outcome: PartsOutcome; sampler: Sampler }> {
    const { region, policy, kernel } = opened;
    // Every phase claims thread indexes from 0 and meets at a barrier of all its threads.
    Atomics.store(region.i32, Header.THREADS_CLAIMED, 0);
    for (let t = 0; t < region.threadCapacity; t++) Atomics.store(region.i32, region.threadBase(t) + Thread.TASK_ID, 0);
    Barrier.initialize(region.i32, BARRIER_I32_BASE, region.threadCapacity);
    const callbacks = new CallbackFailure();
    const { onSample, onProgress } = this.options;
    const sampler = new Sampler(region, policy, onSample && callbacks.guard(onSample));
    sampler.start(this.options.sampleIntervalMs);
    const progress = onProgress ? setInterval(callbacks.guard(() => onProgress(sampler.progress())), 100) : null;
    let outcome: PartsOutcome;
    try {
      outcome = await this.runParts(region, parts, kernel, Number(sampler.startNs), keepThreads, limits, callbacks);
    } finally {
      if (progress) clearInterval(progress);
      sampler.stop();
    }
    // After the last sample: its callback may have thrown too.
    outcome.callbackFailure = callbacks.failure;
    return { outcome, sampler };
  }

  /** Stops the worker threads. */
  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = null;
    if (pool) await pool.destroy();
  }

  private createRegion(): SharedRegion {
    const { threads, policy, maxMapCount, baselineVmas } = this.options;
    // The real-limit child lets the kernel, not the counter, refuse the
    // mapping that passes the limit; the hard cap still comes from max_map_count.
    const vmaLimit = this.options.realLimitChild ? 0x7fffffff : maxMapCount;
    return SharedRegion.create({
      policyId: policyId(policy),
      threads,
      stackCapacity: this.options.stackSlots ?? defaultStackCapacity(maxMapCount, this.options.realLimitChild ? 0 : baselineVmas, threads),
      vmaLimit,
      baselineVmas,
      initialPoolMaxSize: initialPoolMaxSize(policy),
      hardMaxSize: this.hardMaxSize,
    });
  }

  /**
   * Runs every part; never throws for a worker's death. A task that fails
   * marks its thread dead (so a robust lock waiter can take over a lock it
   * held) and leaves the barrier (so the others are not kept waiting for
   * it); the run goes on without it. A run past its time limit, interrupted
   * or failed is stopped (stopWorkers) and every unfinished thread reported.
   */
  private async runParts(
    region: SharedRegion,
    parts: ScenarioPart[],
    kernel: KernelStackBackend | null,
    runStartNs: number,
    keepThreads: boolean,
    limits: PhaseLimits,
    callbacks: CallbackFailure,
  ): Promise<PartsOutcome> {
    const timeoutMs = limits.timeoutMs ?? this.options.timeoutMs;
    const outcome: PartsOutcome = { reports: [], dead: [], timedOut: false, interrupted: false, callbackFailure: null };
    const stop = stopWhen(timeoutMs, limits.signal ?? this.options.signal, callbacks);
    const control = StopControl.create(region.threadCapacity);
    const settled = parts.map(() => stop.already !== null);
    if (stop.already === null) {
      const pool = this.workers();
      const barrier = new Barrier(region.i32, BARRIER_I32_BASE, region.threadCapacity);
      const base: Omit<WorkerTask, "taskId"> = {
        buffer: region.buffer,
        control: control.buffer,
        parts,
        runStartNs,
        barrierTimeoutMs: this.options.barrierTimeoutMs,
        ...(kernel ? { kernel: kernel.state } : {}),
        ...(this.options.realLimitChild ? { dieOnVmaExhaustion: true } : {}),
        ...(this.options.testHooks ? { testHooks: this.options.testHooks } : {}),
        ...(this.options.check ? { check: true } : {}),
        ...(keepThreads ? { keepThreads: true } : {}),
      };
      let over = false;
      const runOne = (taskId: number) =>
        (pool.run({ ...base, taskId }) as Promise<WorkerReport>).then(
          (report) => {
            settled[taskId] = true;
            outcome.reports.push(report);
          },
          (err: unknown) => {
            settled[taskId] = true;
            if (over) return;
            const reason = describeThrown(err);
            this.options.onWorkerFailure?.(reason);
            const thread = threadOfTask(region, taskId);
            if (thread !== null) {
              const exitRan = region.threadWord(thread, Thread.STATUS) === ThreadStatus.EXITED;
              markDead(region, thread);
              outcome.dead.push({ thread, reason, exitRan });
            }
            if (barrier.parties > 1) barrier.removeParty();
          },
        );
      const all = Promise.all(parts.map((_, k) => runOne(k)));
      const finished = await Promise.race([all, stop.stopped]);
      over = true;
      if (typeof finished === "string") await this.stopWorkers(region, control, settled, finished, timeoutMs, outcome);
    } else {
      this.listStopped(region, stop.already, timeoutMs, outcome);
    }
    stop.cancel();
    // A worker that died or was stopped may have left piscina's pool short: start afresh next run.
    if (outcome.dead.length > 0) await this.close();
    return outcome;
  }

  /**
   * Stops a run's workers so that what they held can be accounted for: each
   * is asked to park at its next safe point (stop-control.ts); once all are
   * parked, asleep at a barrier or done (or after STOP_GRACE_MS, for a
   * worker stuck in a workload's own code), the workers are terminated, and
   * only then are their threads marked dead. Marked any earlier, a thread
   * still running would see a lock holder that is still running as dead and
   * take the lock over from it: two threads in one critical section.
   */
  private async stopWorkers(
    region: SharedRegion,
    control: StopControl,
    settled: boolean[],
    cause: StopCause,
    timeoutMs: number,
    outcome: PartsOutcome,
  ): Promise<void> {
    control.request();
    const stillRunning = () =>
      settled.some((done, taskId) => {
        const thread = done ? null : threadOfTask(region, taskId);
        // A task that claimed no thread yet parks at its first barrier, before any pool operation.
        return thread !== null && !control.holdsStill(thread);
      });
    const deadline = performance.now() + STOP_GRACE_MS;
    while (stillRunning() && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, STOP_POLL_MS));
    await this.close();
    this.listStopped(region, cause, timeoutMs, outcome);
  }

  /**
   * After a stop, with no worker left (or none started): the cause, and every thread that neither reported
   * nor is already listed dead is listed, with why it stopped. One that had
   * attached is marked dead (what it held is freed at shutdown); one that
   * never attached in this run holds nothing of it.
   */
  private listStopped(region: SharedRegion, cause: StopCause, timeoutMs: number, outcome: PartsOutcome): void {
    outcome.timedOut = cause === "timeout";
    outcome.interrupted = cause === "interrupted";
    const done = new Set([...outcome.reports.map((r) => r.thread), ...outcome.dead.map((d) => d.thread)]);
    for (let t = 0; t < region.threadCapacity; t++) {
      if (done.has(t)) continue;
      const status = region.threadWord(t, Thread.STATUS);
      const attached = status === ThreadStatus.ATTACHED;
      const started = attached || status === ThreadStatus.EXITED;
      if (attached) markDead(region, t);
      outcome.dead.push({ thread: t, reason: stopReason(cause, timeoutMs, started), exitRan: !attached });
    }
  }

  private workers(): Piscina {
    this.pool ??= new Piscina({
      filename: join(projectRoot(), "dist", "workers", "scenario-worker.js"),
      minThreads: this.options.threads,
      maxThreads: this.options.threads,
      idleTimeout: Infinity,
      concurrentTasksPerWorker: 1,
    });
    return this.pool;
  }
}

/**
 * After the workers are gone, at a quiescent point: what dead threads held is
 * found through the stack table and freed, then the region is closed.
 */
function shutDown(region: SharedRegion, allocator: StackAllocator, policy: PoolPolicy, outcome: PartsOutcome) {
  const reclaimed = reclaimDeadThreads({ region, allocator, policy }, outcome.dead);
  // Coroutines a worker left unfinished (a run cut short by an abort) keep their stacks.
  const unfinished = outcome.reports.reduce((n, r) => n + r.coroutinesCreated - r.coroutinesTerminated, 0);
  return { ...reclaimed, ...closeRegion({ region, allocator, policy }, unfinished) };
}

/** What a phase's dead threads held, freed at a quiescent point (their thread indexes start afresh). */
export function reclaimDeadThreads(opened: Pick<OpenRegion, "region" | "allocator" | "policy">, dead: PartsOutcome["dead"]) {
  const { region, allocator, policy } = opened;
  const deadThreads = dead.map((d) => reclaimDeadThread(region, allocator, policy, d.thread, d.reason, d.exitRan));
  const reclaimedInFlight = dead.length > 0 ? reclaimOrphanedGlobalStacks(region, allocator, policy) : 0;
  return { deadThreads, reclaimedInFlight };
}

/**
 * Every thread has exited: the shared pool is drained, the mappings of failed
 * guard pages are unmapped, and the whole region is walked by the invariant
 * checker, expecting `unfinished` coroutines still holding their stacks.
 */
export function closeRegion(opened: Pick<OpenRegion, "region" | "allocator" | "policy">, unfinished: number) {
  const { region, allocator, policy } = opened;
  const drainedAtShutdown = policy.drainGlobalPool();
  const strandedMappingsReleased = allocator.releaseStrandedMappings();
  const census = checkRegion(region, unfinished, policy);
  return { drainedAtShutdown, strandedMappingsReleased, census };
}

/**
 * Enough slots for every stack the VMA limit allows. A slot whose mapping has
 * only its first VMA (between mmap and guard page, or stranded by a failed
 * guard page) costs 1 VMA, not 2, and each thread can hold one such slot: with
 * S stacks and k <= threads such slots, 2S + k <= L, so S + k <= L/2 + threads/2.
 */
export function defaultStackCapacity(maxMapCount: number, baselineVmas: number, threads: number): number {
  return Math.min(Math.max(0, Math.floor((maxMapCount - baselineVmas) / 2)) + threads, MAX_DEFAULT_STACK_CAPACITY);
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
