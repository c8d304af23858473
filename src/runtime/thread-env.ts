import { writeSync } from "node:fs";
import { CoroutineContext, type Coroutine } from "../coroutine/index.js";
import { VmaExhaustedError } from "../errors.js";
import { checkRegion, holdDecay, openPolicy, ThreadStacks, type PoolPolicy } from "../pools/index.js";
import { BARRIER_I32_BASE, Header, Thread, ThreadStatus, Vma } from "../shared/layout.js";
import { SharedRegion } from "../shared/region.js";
import { StackAllocator } from "../stacks/stack-allocator.js";
import { Barrier } from "../sync/barrier.js";
import { crossCheck, type CrossCheck } from "../stacks/cross-check.js";
import { readProcessVmaCount } from "../vma/limits.js";
import { KernelStackBackend } from "../stacks/kernel-backend.js";
import { simulatedBackend, type StackBackend } from "../stacks/backend.js";
import type { AbortSnapshot, PhaseCheck, TestHooks, WorkerTask } from "./protocol.js";
import { StopControl } from "./stop-control.js";

/**
 * Everything a worker thread needs to run its part of a scenario: its thread
 * index, its view of the shared pools, and a coroutine context whose stacks
 * come from this thread's pool.
 */
export class ThreadEnv {
  readonly region: SharedRegion;
  readonly thread: number;
  readonly threads: number;
  readonly policy: PoolPolicy;
  readonly stacks: ThreadStacks;
  readonly coroutines: CoroutineContext;
  /** Kernel mode, thread 0: the /proc/self/maps checks made at phase boundaries. */
  readonly crossChecks: CrossCheck[] = [];
  /** With check on, thread 0: the invariant checker's verdicts at phase boundaries. */
  readonly phaseChecks: PhaseCheck[] = [];
  private readonly check: boolean;
  private readonly barrier: Barrier;
  private readonly barrierTimeoutMs: number;
  private readonly kernel: KernelStackBackend | null;
  private readonly dieOnVmaExhaustion: boolean;
  private readonly runStartNs: number;
  /** How the main thread stops this thread at a safe point (stop-control.ts). */
  private readonly stop: StopControl;
  private abortSnapshot: AbortSnapshot | null = null;

  private constructor(region: SharedRegion, thread: number, task: WorkerTask) {
    this.region = region;
    this.thread = thread;
    this.threads = region.threadCapacity;
    this.kernel = task.kernel ? KernelStackBackend.attach(task.kernel) : null;
    this.dieOnVmaExhaustion = task.dieOnVmaExhaustion === true;
    this.runStartNs = task.runStartNs;
    this.check = task.check === true;
    this.stop = StopControl.attach(task.control);
    const allocator = new StackAllocator(region, stalling(this.kernel ?? simulatedBackend, thread, task.testHooks));
    this.policy = openPolicy(region, allocator);
    this.stacks = new ThreadStacks(region, this.policy, allocator, thread);
    this.coroutines = new StoppableContext(this.stacks, this.stop, thread);
    this.barrier = new Barrier(region.i32, BARRIER_I32_BASE, region.threadCapacity);
    this.barrierTimeoutMs = task.barrierTimeoutMs;
    const base = region.threadBase(thread);
    Atomics.store(region.i32, base + Thread.TASK_ID, task.taskId + 1);
    Atomics.store(region.i32, base + Thread.STATUS, ThreadStatus.ATTACHED);
    this.installTestHooks(task);
  }

  /** Test hook: throw once this many coroutines have been created here (null: never). */
  private throwAfterCreates: number | null = null;

  private installTestHooks(task: WorkerTask): void {
    const fail = task.testHooks?.throwWithLiveCoroutines;
    if (fail?.thread === this.thread) this.throwAfterCreates = fail.afterCreates;
    const die = task.testHooks?.dieInCriticalSection;
    if (die?.thread === this.thread) {
      let acquisitions = 0;
      this.policy.onCriticalSection = () => {
        // The worker thread ends here, with the global lock held.
        if (++acquisitions === die.acquisition) process.exit(1);
      };
    }
  }

  /**
   * Attaches to the region and claims the next thread index. The caller then
   * waits at the barrier, so no worker can claim two parts.
   */
  static claim(task: WorkerTask): ThreadEnv {
    const region = SharedRegion.attach(task.buffer);
    const thread = Atomics.add(region.i32, Header.THREADS_CLAIMED, 1);
    if (thread >= region.threadCapacity) {
      throw new Error(`more workers than the ${region.threadCapacity} thread slots claimed a part`);
    }
    return new ThreadEnv(region, thread, task);
  }

  /**
   * Waits until every thread reaches the same point (phases start together).
   * Asleep there, the thread is at a safe point the main thread may claim it
   * at; if it did, the thread parks when it wakes.
   */
  sync(): void {
    this.stop.stopPoint(this.thread);
    this.stop.enterSafePoint(this.thread);
    try {
      this.barrier.arriveAndWait(this.barrierTimeoutMs);
    } finally {
      this.stop.leaveSafePoint(this.thread);
    }
  }

  /**
   * A phase boundary. In kernel mode, or with checking on, every thread stops
   * while thread 0 compares the counter with /proc/self/maps and/or walks the
   * region with the invariant checker; otherwise it costs nothing.
   */
  phaseDone(point: string): void {
    if (this.kernel === null && !this.check) return;
    this.sync();
    // The main thread is at no barrier: its tick is held off for both checks (pools/decay-gate.ts).
    if (this.thread === 0) holdDecay(this.region, () => this.checkPhase(point));
    this.sync();
  }

  private checkPhase(point: string): void {
    if (this.kernel) this.crossChecks.push(crossCheck(this.region, this.kernel, point));
    if (this.check) this.phaseChecks.push({ point, violations: checkRegion(this.region, this.liveCoroutines(), this.policy).violations });
  }

  /** Coroutines live on all threads (each thread's LIVE word), read at a quiescent point. */
  private liveCoroutines(): number {
    let live = 0;
    for (let t = 0; t < this.threads; t++) live += Atomics.load(this.region.i32, this.region.threadBase(t) + Thread.LIVE);
    return live;
  }

  /** True once any thread hit VMA exhaustion: like QEMU's abort(), it stops everyone. */
  aborted(): boolean {
    return Atomics.load(this.region.i32, Header.ABORTED) !== 0;
  }

  /** Counts units of scenario work, for the main thread's progress display. */
  progress(units = 1): void {
    this.stop.stopPoint(this.thread);
    Atomics.add(this.region.i32, this.region.threadBase(this.thread) + Thread.PROGRESS, units);
  }

  /**
   * Runs `create` and reports whether it worked. A VMA-exhaustion failure is
   * recorded with the counts at that moment instead of propagating, so the
   * thread can unwind (complete what is in flight, exit) and report it.
   */
  tryCreate(create: () => void): boolean {
    this.stop.stopPoint(this.thread);
    if (this.throwAfterCreates !== null && this.coroutines.created >= this.throwAfterCreates) {
      throw new Error(`test hook: thread ${this.thread} fails with ${this.coroutines.live} coroutines live`);
    }
    try {
      create();
      return true;
    } catch (err) {
      if (!(err instanceof VmaExhaustedError)) throw err;
      this.recordAbort(err);
      return false;
    }
  }

  /** Keeps the counts at this thread's first VMA-exhaustion failure. */
  recordAbort(err: VmaExhaustedError): void {
    if (this.dieOnVmaExhaustion) this.dieLikeQemu(err);
    this.abortSnapshot ??= this.snapshot(err);
  }

  /**
   * QEMU's perror() then abort(): the last counter value and the message go
   * to stderr for the parent to report, then the whole process dies.
   */
  private dieLikeQemu(err: VmaExhaustedError): never {
    const real = readProcessVmaCount();
    // Straight to fd 2: a worker's process.stderr is relayed by the main
    // thread, which the signal below would kill before it wrote anything.
    writeSync(
      2,
      `vmas ${this.region.readU32(Vma.CURRENT)}\nreal-vmas ${real ?? "unknown"}\n` +
        `${err.vmaMessage}: ${err.cause instanceof Error ? err.cause.message : "the VMA limit"}\n`,
    );
    // process.abort() is not available in worker threads; the signal is what abort() raises.
    process.kill(process.pid, "SIGABRT");
    throw err;
  }

  get abort(): AbortSnapshot | null {
    return this.abortSnapshot;
  }

  /** The thread's exit: QEMU's thread-exit notifier for its pool. */
  exit(): void {
    this.stacks.exit();
    Atomics.store(this.region.i32, this.region.threadBase(this.thread) + Thread.STATUS, ThreadStatus.EXITED);
  }

  /** The part ends but the thread goes on: its pools stay for its next part (a hosted runtime). */
  park(): void {
    Atomics.store(this.region.i32, this.region.threadBase(this.thread) + Thread.STATUS, ThreadStatus.PARKED);
  }

  /**
   * A thread exit in the middle of a run: the notifier runs, and the thread
   * carries on as a brand-new thread (empty pools), like a trace's `exit T<i>`.
   */
  exitAndContinue(): void {
    this.stacks.exit();
  }

  private snapshot(err: VmaExhaustedError): AbortSnapshot {
    const totals = this.region.totals();
    let live = 0;
    const pooledThreads: number[] = [];
    for (let t = 0; t < this.threads; t++) {
      live += Atomics.load(this.region.i32, this.region.threadBase(t) + Thread.LIVE);
      pooledThreads.push(this.policy.localPoolSize(t));
    }
    return {
      message: err.vmaMessage,
      thread: this.thread,
      tMs: Math.max(0, (Number(process.hrtime.bigint()) - this.runStartNs) / 1e6),
      vmas: this.region.readU32(Vma.CURRENT),
      vmaPeak: this.region.readU32(Vma.PEAK),
      stacksCreated: totals.created,
      stacksFreed: totals.freed,
      live,
      pooledGlobal: this.policy.globalPoolSize(),
      pooledThreads,
    };
  }
}

/**
 * A thread's coroutine context with a safe point at every enter: no pool
 * operation is under way when a coroutine is entered, and every stack given
 * back (at a coroutine's end) follows one, so a thread stops between two
 * coroutines, whatever its part does. (Creating one is a safe point too, in
 * tryCreate, where the parts create.)
 */
class StoppableContext extends CoroutineContext {
  constructor(
    stacks: ThreadStacks,
    private readonly stop: StopControl,
    private readonly thread: number,
  ) {
    super(stacks);
  }

  override enter(co: Coroutine): void {
    this.stop.stopPoint(this.thread);
    super.enter(co);
  }
}

/**
 * Test hook (stallInMapping): the backend that makes the thread's stacks,
 * sleeping inside its `mapping`-th mapping for `ms`, between the mapping's
 * VMA being counted and its stack being live: the window a stop must never
 * cut. Any other thread, or no hook: the backend itself.
 */
function stalling(backend: StackBackend, thread: number, hooks: TestHooks | undefined): StackBackend {
  const stall = hooks?.stallInMapping;
  if (stall?.thread !== thread) return backend;
  let mappings = 0;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  return {
    name: backend.name,
    map(slot) {
      backend.map(slot);
      if (++mappings === stall.mapping) Atomics.wait(sleeper, 0, 0, stall.ms);
    },
    protectGuard: (slot) => backend.protectGuard(slot),
    unmap: (slot) => backend.unmap(slot),
  };
}
