import { VmaExhaustedError, type VmaFailureMessage } from "../errors.js";
import { initialPoolMaxSize, openPolicy, policyId, ThreadStacks, type PolicyName } from "../pools/index.js";
import { Thread } from "../shared/layout.js";
import { SharedRegion } from "../shared/region.js";
import { StackAllocator } from "../stacks/stack-allocator.js";
import { poolHardMaxSize } from "../vma/limits.js";
import type { Trace } from "./trace.js";

export interface ReplayOptions {
  policy: PolicyName;
  maxMapCount: number;
  baselineVmas: number;
  /**
   * QEMU's practical behaviour: its parser rejects /proc's trailing newline,
   * so the batched hard cap is really UINT_MAX. Off by default.
   */
  uncapped?: boolean;
}

/** The JSON object `coropool replay --json` prints; the key order is part of the format. */
export interface ReplayResult {
  policy: PolicyName;
  events: number;
  stacksCreated: number;
  stacksFreed: number;
  live: number;
  pooled: { global: number; threads: number[] };
  vmas: { baseline: number; limit: number; final: number; peak: number };
  failure: null | { line: number; error: VmaFailureMessage };
}

/** The result plus what the JSON format has no key for. */
export interface ReplayOutcome {
  result: ReplayResult;
  /** legacy: stacks left mapped by threads that exited without cleanup. */
  leakedStacks: number;
  hardMaxSize: number;
  globalLockAcquisitions: number;
  /** The replay's private region, for invariant checks. */
  region: SharedRegion;
}

/**
 * Replays a checked trace in this one thread, the named threads' local state
 * simulated in a private shared region, through the very policy code the
 * workers run. A VMA-exhaustion failure ends the replay like QEMU's abort().
 */
export function replayTrace(trace: Trace, options: ReplayOptions): ReplayOutcome {
  const hardMaxSize = poolHardMaxSize(options.maxMapCount, options.uncapped === true);
  const region = SharedRegion.create({
    policyId: policyId(options.policy),
    threads: trace.threads,
    stackCapacity: replayStackCapacity(trace, options),
    vmaLimit: options.maxMapCount,
    baselineVmas: options.baselineVmas,
    initialPoolMaxSize: initialPoolMaxSize(options.policy),
    hardMaxSize,
  });
  const stacks = new StackAllocator(region);
  const policy = openPolicy(region, stacks);
  const threads = Array.from({ length: trace.threads }, (_, t) => new ThreadStacks(region, policy, stacks, t));
  const live = new Map<string, number>();
  let events = 0;
  let failure: ReplayResult["failure"] = null;

  for (const event of trace.events) {
    events++;
    try {
      switch (event.kind) {
        case "inc":
          policy.incPoolSize(event.amount);
          break;
        case "dec":
          policy.decPoolSize(event.amount);
          break;
        case "create":
          live.set(event.name, threads[event.thread]!.acquireStack());
          break;
        case "terminate":
          threads[event.thread]!.releaseStack(live.get(event.name)!);
          live.delete(event.name);
          break;
        case "exit":
          threads[event.thread]!.exit();
          break;
      }
    } catch (err) {
      if (!(err instanceof VmaExhaustedError)) throw err;
      failure = { line: event.line, error: err.vmaMessage };
      break;
    }
    // The replay's clock: the trace's time when it has one, else the events so far.
    policy.tick(events);
  }

  const totals = region.totals();
  const result: ReplayResult = {
    policy: options.policy,
    events,
    stacksCreated: totals.created,
    stacksFreed: totals.freed,
    live: live.size,
    pooled: {
      global: policy.globalPoolSize(),
      threads: threads.map((_, t) => policy.localPoolSize(t)),
    },
    vmas: {
      baseline: stacks.vmas.baseline,
      limit: stacks.vmas.limit,
      final: stacks.vmas.current,
      peak: stacks.vmas.peak,
    },
    failure,
  };
  const globalLockAcquisitions = lockAcquisitions(region);
  return { result, leakedStacks: totals.leaked, hardMaxSize, globalLockAcquisitions, region };
}

/**
 * Slots enough for every stack the replay can hold at once: no more than the
 * VMA limit allows, nor than the trace creates; one more for the stack whose
 * guard page fails.
 */
function replayStackCapacity(trace: Trace, options: ReplayOptions): number {
  const byVmas = Math.max(0, Math.floor((options.maxMapCount - options.baselineVmas) / 2));
  return Math.min(byVmas, trace.creates) + 1;
}

/** The simulated threads' global-lock acquisitions (a policy without a lock never counts any). */
function lockAcquisitions(region: SharedRegion): number {
  let n = 0;
  for (let t = 0; t < region.threadCapacity; t++) n += region.threadWord(t, Thread.STAT_LOCK_ACQUISITIONS);
  return n;
}
