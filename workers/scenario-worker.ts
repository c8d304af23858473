/**
 * The piscina worker entry: one task = one thread's part of a scenario.
 *
 * The task claims a thread index in the shared region and waits at the
 * region's barrier before it starts. A worker blocked at the barrier cannot
 * take another task, so with one task per thread every worker gets exactly
 * one part, and every thread's pool state is that worker's own.
 */
import type { WorkerReport, WorkerTask } from "../src/runtime/protocol.js";
import { preparePart, runPart } from "../src/scenarios/registry.js";
import { ThreadEnv } from "../src/runtime/thread-env.js";

export default async function runScenarioPart(task: WorkerTask): Promise<WorkerReport> {
  // Claim first, then prepare (import a custom module): a module whose top
  // level never ends then holds a claimed thread, which the run's time limit
  // or signal stops and reports dead, as it does a coroutine that never yields.
  const env = ThreadEnv.claim(task);
  await preparePart(task.parts[env.thread]!);
  env.sync();
  let part: unknown;
  try {
    part = runPart(env, task.parts[env.thread]!);
  } finally {
    // The thread's part is over: QEMU's thread-exit notifier runs here,
    // unless a hosted runtime keeps the thread (and its pools) for its next run.
    if (task.keepThreads) env.park();
    else env.exit();
  }
  return {
    thread: env.thread,
    abort: env.abort,
    coroutinesCreated: env.coroutines.created,
    coroutinesTerminated: env.coroutines.terminated,
    part,
    crossChecks: env.crossChecks,
    phaseChecks: env.phaseChecks,
  };
}
