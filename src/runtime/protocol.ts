import type { VmaFailureMessage } from "../errors.js";

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
}

/** The shared counters at the moment a thread hit VMA exhaustion. */
export interface AbortSnapshot {
  message: VmaFailureMessage;
  thread: number;
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
}
