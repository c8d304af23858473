import type { VmaFailureMessage } from "../errors.js";
import type { CrossCheck } from "../stacks/cross-check.js";
import type { KernelBackendState } from "../stacks/kernel-backend.js";

/**
 * What the main thread sends each worker and what comes back. Everything here
 * crosses postMessage (structured clone); the SharedArrayBuffer is shared,
 * not copied.
 */

/** One thread's share of a scenario; `kind` picks the code that runs it. */
export interface ScenarioPart {
  kind: string;
}

export interface WorkerTask {
  buffer: SharedArrayBuffer;
  /** Indexed by the thread index a worker claims: one part per worker. */
  parts: ScenarioPart[];
  /** How long any barrier wait may take before the run is declared hung. */
  barrierTimeoutMs: number;
  /** Set when stacks are real mappings (the kernel backend); absent for the simulated one. */
  kernel?: KernelBackendState;
  /**
   * Die like QEMU on the first VMA-exhaustion failure: print its message and
   * abort the process (the child process of the real-limit reproduction).
   */
  dieOnVmaExhaustion?: boolean;
  /** The phase's stop control (stop-control.ts): where the main thread asks the workers to stop at a safe point. */
  control: SharedArrayBuffer;
  /** Which of the run's tasks this is (each claims a thread and records this id there). */
  taskId: number;
  /** process.hrtime of the run's start (the samples' time origin), in ns: the same clock in every thread. */
  runStartNs: number;
  /** Deterministic failure injection for the reliability tests. */
  testHooks?: TestHooks;
  /** Walk the whole region with the invariant checker at every phase boundary. */
  check?: boolean;
  /**
   * A hosted runtime's run: the part ends without the thread's exit, so its
   * pools stay for the runtime's next run (the thread is parked, not gone).
   */
  keepThreads?: boolean;
}

/** The invariant checker's verdict at one quiescent point. */
export interface PhaseCheck {
  point: string;
  violations: string[];
}

export interface TestHooks {
  /** Thread `thread` exits (process.exit in the worker) inside its `acquisition`-th global-lock critical section. */
  dieInCriticalSection?: { thread: number; acquisition: number };
  /** Thread `thread` throws from its part after it has `afterCreates` coroutines live. */
  throwWithLiveCoroutines?: { thread: number; afterCreates: number };
  /**
   * Thread `thread` sleeps `ms` inside its `mapping`-th stack mapping, with
   * the mapping's first VMA counted and its stack not yet live: a stop that
   * lands then must wait for it to reach a safe point.
   */
  stallInMapping?: { thread: number; mapping: number; ms: number };
}

/** A worker that died, and what was found of the stacks it held. */
export interface DeadThreadReport {
  thread: number;
  reason: string;
  /** Stacks in its local pool, freed by the runtime. */
  reclaimedFromPool: number;
  /** Stacks of its coroutines that never terminated, freed by the runtime. */
  reclaimedLive: number;
}

/**
 * The shared counters at the moment a thread hit VMA exhaustion, read while
 * the other threads ran on: stacks another thread was mapping at that instant
 * may be counted in `stacksCreated` but not yet in a pool or live (at most one
 * per other thread).
 */
export interface AbortSnapshot {
  message: VmaFailureMessage;
  thread: number;
  /** When, in ms since the run started: on the same time axis as the samples. */
  tMs: number;
  vmas: number;
  vmaPeak: number;
  stacksCreated: number;
  stacksFreed: number;
  live: number;
  pooledGlobal: number;
  pooledThreads: number[];
}

export interface WorkerReport {
  thread: number;
  /** Set on the thread whose stack mapping failed (QEMU's abort). */
  abort: AbortSnapshot | null;
  coroutinesCreated: number;
  coroutinesTerminated: number;
  /** Scenario-specific figures from this thread. */
  part: unknown;
  /** Kernel mode, thread 0 only: the checks made at phase boundaries. */
  crossChecks: CrossCheck[];
  /** With check on, thread 0 only: the invariant checker at phase boundaries. */
  phaseChecks: PhaseCheck[];
}
