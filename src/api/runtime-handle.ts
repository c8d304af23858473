/**
 * startRuntime(): real worker threads on one shared region under one pool
 * policy, kept for as long as a program wants them, for programs that host
 * their own coroutines. See src/runtime/hosted.ts for what a run and a close
 * do to the pools.
 */
import { fileURLToPath } from "node:url";
import { apiDoor } from "../options/door.js";
import { resolveStartOptions, resolveWorkloadOptions } from "../options/doors.js";
import { badArgument } from "../options/resolve.js";
import { checkKernelBackend } from "../options/scenario-fit.js";
import type { PolicyName } from "../pools/index.js";
import { HostedRuntime, type ClosedStats, type HostedRunOutcome, type LiveStats } from "../runtime/hosted.js";
import type { BackendName } from "../runtime/runtime.js";
import { setupFailure, type CustomPart, type CustomPartResult } from "../scenarios/custom/part.js";

export interface StartRuntimeOptions {
  /** Worker threads (each one of QEMU's IOThreads), 1 to 64. */
  threads: number;
  policy: PolicyName;
  /** The VMA limit; default: this host's vm.max_map_count (65530 if unreadable). */
  maxMapCount?: number;
  /** VMAs the rest of the process uses; default: this process's /proc/self/maps. */
  baselineVmas?: number;
  /** batched: no hard cap from max_map_count (QEMU's practical behaviour on Linux). */
  uncapped?: boolean;
  /** simulated (default): VMA accounting only; kernel: every stack a real mmap + mprotect. */
  backend?: BackendName;
  /** Kernel backend: bytes per stack (default 1 MiB); a number of bytes or text like "64k". */
  stackSize?: number | string;
  /** Stacks the shared stack table holds; default: what the VMA limit allows. */
  stackSlots?: number;
  /** Raise the pool size as devices would (QEMU's qemu_coroutine_inc_pool_size). */
  poolIncrease?: number;
  /** @deprecated the old name of poolIncrease; goes in 0.3.0. */
  poolSizeIncrease?: number;
}

export interface WorkloadRunOptions {
  /** Passed to the workload's coroutines() as `options`. */
  options?: Record<string, unknown>;
  /** Passed to the workload's coroutines() as `seed` (default 1). */
  seed?: number;
  /** A run not finished by then is stopped and its threads reported dead. */
  timeoutMs?: number;
  /** Stops the run when it fires (reported with `interrupted: true`). */
  signal?: AbortSignal;
}

/** One run of a workload on a runtime: the workload's figures summed over threads, and the pools'. */
export interface WorkloadRun extends Omit<HostedRunOutcome, "parts"> {
  coroutines: number;
  completed: number;
  /** Coroutines whose body threw (each ended, its stack went back). */
  failed: number;
  failures: { thread: number; index: number; message: string }[];
  /** Each thread's figures; null for a thread that died. */
  perThread: (CustomPartResult | null)[];
}

/** A started runtime. Runs go one at a time in the order asked; stats() reads the counters at any moment. */
export interface RuntimeHandle {
  readonly threads: number;
  readonly policy: PolicyName;
  readonly closed: boolean;
  /** Runs a workload module (a path or a file: URL) on every thread; the pools carry over from earlier runs. */
  run(workload: string | URL, options?: WorkloadRunOptions): Promise<WorkloadRun>;
  /** The shared counters now (atomic reads), also while a run goes on. */
  stats(): LiveStats;
  /** Every thread exits, the pools are emptied and checked, the workers stop. Again: the same result. */
  close(): Promise<ClosedStats>;
}

export type { ClosedStats, LiveStats } from "../runtime/hosted.js";

/** Starts `threads` worker threads on one shared region under `policy`. */
export async function startRuntime(options: StartRuntimeOptions): Promise<RuntimeHandle> {
  const door = apiDoor("startRuntime");
  const request = resolveStartOptions(door, options);
  if (request.backend === "kernel") checkKernelBackend(door, request.maxMapCount ?? null);
  const hosted = new HostedRuntime(
    {
      threads: request.threads,
      policy: request.policy,
      maxMapCount: request.maxMapCount,
      baselineVmas: request.baselineVmas,
      uncapped: request.uncapped,
      backend: request.backend,
      stackSize: request.stackSize,
      stackSlots: request.stackSlots,
    },
    request.poolIncrease,
  );
  return {
    threads: request.threads,
    policy: request.policy,
    get closed() {
      return hosted.closed;
    },
    run: (workload, runOptions = {}) => runWorkload(hosted, workload, runOptions),
    stats: () => hosted.stats(),
    close: () => hosted.close(),
  };
}

async function runWorkload(hosted: HostedRuntime, workload: string | URL, given: WorkloadRunOptions): Promise<WorkloadRun> {
  hosted.refuseIfClosed("run");
  const door = apiDoor("runtime.run");
  const options = resolveWorkloadOptions(door, given);
  const modulePath = workloadPath(workload);
  // The module is imported by the workers, inside the run's time limit: never here, where a module that never finishes loading would hold the caller's thread.
  const part: CustomPart = { kind: "custom", modulePath, options: options.options, seed: options.seed };
  const { parts, ...outcome } = await hosted.run(
    Array.from({ length: hosted.threads }, () => part),
    { timeoutMs: options.timeoutMs, signal: options.signal },
  );
  // The workers import the module inside the run's time limit; a bad one is refused here.
  const failure = setupFailure(modulePath, parts);
  if (failure) throw failure;
  const perThread = parts as (CustomPartResult | null)[];
  const sum = (field: "coroutines" | "completed" | "failed") => perThread.reduce((n, p) => n + (p?.[field] ?? 0), 0);
  return {
    ...outcome,
    coroutines: sum("coroutines"),
    completed: sum("completed"),
    failed: sum("failed"),
    failures: perThread.flatMap((p, thread) => (p?.failures ?? []).map((f) => ({ thread, ...f }))),
    perThread,
  };
}

/** A workload module's path: a path, or a file: URL. */
function workloadPath(workload: unknown): string {
  if (typeof workload === "string" && workload !== "") return workload;
  if (workload instanceof URL && workload.protocol === "file:") return fileURLToPath(workload);
  throw badArgument(apiDoor("runtime.run"), "workload", workload instanceof URL ? workload.href : workload, "a workload module's path or file: URL");
}
