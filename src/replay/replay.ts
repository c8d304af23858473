import { GUARD_PAGE_FAILED, STACK_ALLOC_FAILED, VmaExhaustedError, type VmaFailureMessage } from "../errors.js";
import { initialPoolMaxSize, openPolicy, policyDefinition, policyId, ThreadStacks, type PolicyName, type PoolPolicy } from "../pools/index.js";
import { Thread, Vma } from "../shared/layout.js";
import { SharedRegion } from "../shared/region.js";
import { StackAllocator } from "../stacks/stack-allocator.js";
import { poolHardMaxSize } from "../vma/limits.js";
import { regrownRegion } from "./region-growth.js";
import { LiveCoroutines } from "./live-coroutines.js";
import { MICROS_PER_SECOND, NO_TIME, tookGlobalLock, type PoolEventSink, type PoolOperation } from "./pool-events.js";

const MICROS_PER_MS = MICROS_PER_SECOND / 1000;
/**
 * A trace without times counts its pool events as time at the pace of the
 * real QEMU logs we hold (test/fixtures/qemu-real, the three with times:
 * 9.4 to 10.2 log lines a ms over the whole log, about two thirds of them
 * pool events, more while the guest is busy). Counting an event as a ms
 * would make a 250 ms decay period last a fraction of one I/O phase, and
 * elastic would give back stacks the same phase maps again.
 */
const POOL_EVENTS_PER_MS = 8;
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
  /**
   * The batched hard cap itself, overriding the one max_map_count gives (the
   * what-if replays one cap with no VMA limit at all). Rarely wanted.
   */
  hardMaxSize?: number;
  /**
   * Whose clock ends elastic's decay periods: "events" (the default), the
   * tick after every event; "qemu", only the decay events a patched QEMU's
   * log carries (qemu/patches/), at each of which a period ends, as QEMU's
   * timer ended it. Other policies ignore it.
   */
  decayClock?: "events" | "qemu";
}

/**
 * A replay against a patched QEMU's own pool operations (its trace events):
 * after each, QEMU's global pool (its `global` field) beside the replay's.
 * A refill or a take is traced before the enter that the replay reads as the
 * create, so it is compared after that thread's next create.
 */
export interface QemuPoolSteps {
  /** Pool operations QEMU traced, and those that took its global lock. */
  operations: number;
  lockAcquisitions: number;
  /** Comparisons made, and how many found the same global pool. */
  checked: number;
  exact: number;
  /** The largest difference (replay − QEMU) by size, and the first line where one was seen. */
  maxDiff: number;
  firstDiffLine: number;
  /** Stacks QEMU's decay freed, and the replay's at the same decay events. */
  qemuDecayFreed: number;
  replayDecayFreed: number;
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
  /**
   * The peak, and when it happened. Absent for a coropool trace without
   * times (the traces that existed before times did: their JSON stays byte
   * for byte); present for QEMU logs and for traces with times.
   */
  peak?: ReplayPeak;
}

export interface ReplayPeak {
  /** The most stacks mapped at once (live + pooled + leaked). */
  stacks: number;
  /** The most VMAs at once (= vmas.peak). */
  vmas: number;
  /** The line of the event that first reached the peak (0: no stack was ever mapped). */
  line: number;
  /** Seconds from the input's first time to that event, or null when the input has no times. */
  seconds: number | null;
}

/** The result plus what the JSON format has no key for. */
export interface ReplayOutcome {
  result: ReplayResult;
  /** legacy: stacks left mapped by threads that exited without cleanup. */
  leakedStacks: number;
  hardMaxSize: number;
  globalLockAcquisitions: number;
  /** The peak, whether or not the JSON shows it. */
  peak: ReplayPeak;
  /** The replay's private region, for invariant checks. */
  region: SharedRegion;
  /** Against a patched QEMU's pool operations; null when the input traced none. */
  qemuSteps: QemuPoolSteps | null;
}

/** Where a replay with no VMA limit would have aborted under a given limit. */
export interface WouldAbort {
  line: number;
  /** Microseconds, or NO_TIME. */
  time: number;
  error: VmaFailureMessage;
}

/** A replay with no VMA limit at all (a what-if's): its counter never refuses a mapping. */
export const NO_VMA_LIMIT = Infinity;

/**
 * The most VMAs the replay's counter (an Int32 word) holds. It counts the
 * stacks' VMAs only, the baseline kept aside, so that a baseline up to
 * 2^31 - 1 plus any number of stacks never wraps: the sum is computed in
 * doubles whenever the count is compared or shown.
 */
const MAX_STACK_VMAS = 0x7fffffff;

/** Slots a streamed replay starts with when it cannot know how many it needs. */
const INITIAL_STACK_CAPACITY = 1024;
/** Thread slots a streamed replay starts with (elastic's cap counts them: see ElasticPolicy). */
export const INITIAL_THREAD_CAPACITY = 8;
const INITIAL_COROUTINE_IDS = 1024;

/**
 * Replays a checked trace in this one thread, the named threads' local state
 * simulated in a private shared region, through the very policy code the
 * workers run. A VMA-exhaustion failure ends the replay like QEMU's abort().
 * `threadSlots`: the region's thread slots, the trace's threads by default
 * (a streamed replay starts with INITIAL_THREAD_CAPACITY).
 */
export function replayTrace(trace: Trace, options: ReplayOptions, threadSlots = trace.threads): ReplayOutcome {
  const replay = new PolicyReplay(options, trace.creates, threadSlots);
  replay.threadsSeen(trace.threads);
  const live = new LiveCoroutines<string>();
  for (const event of trace.events) {
    const time = event.time ?? NO_TIME;
    switch (event.kind) {
      case "inc":
        replay.inc(event.amount, event.line, time);
        break;
      case "dec":
        replay.dec(event.amount, event.line, time);
        break;
      case "create":
        replay.create(event.thread, live.start(event.name), event.line, time);
        break;
      case "terminate":
        replay.terminate(event.thread, live.end(event.name), event.line, time);
        break;
      case "exit":
        replay.exit(event.thread, event.line, time);
        break;
    }
  }
  return replay.outcome({ showPeak: trace.events.some((e) => e.time !== undefined), firstTime: firstTime(trace) });
}

function firstTime(trace: Trace): number {
  return trace.events.find((e) => e.time !== undefined)?.time ?? NO_TIME;
}

/** Called after every event a replay executes, for series and observers. */
export type ReplayObserver = (replay: PolicyReplay, thread: number, line: number, time: number) => void;

/**
 * One policy replaying a stream of pool events: a sink for a decoder. Several
 * of them fed in lockstep replay one input under several policies in one pass.
 * After an abort it ignores the rest (the decoder still checks the input).
 */
export class PolicyReplay implements PoolEventSink {
  readonly options: ReplayOptions;
  readonly hardMaxSize: number;
  region: SharedRegion;
  private policy: PoolPolicy;
  private stacks: StackAllocator;
  private threadStacks: ThreadStacks[] = [];
  private threadCount = 0;
  /** Stack slot of each live coroutine, by coroutine id. */
  private slotOf: Int32Array = new Int32Array(INITIAL_COROUTINE_IDS);
  private readonly maxStackCapacity: number;
  events = 0;
  /** Thread exits replayed. */
  exits = 0;
  live = 0;
  failure: ReplayResult["failure"] = null;
  /** The most stack VMAs at once (the baseline not counted), its line and time. */
  private peakVmas = 0;
  private peakLine = 0;
  private peakTime = NO_TIME;
  /** The first event at which a limit of `watchedLimit` VMAs would have aborted. */
  wouldAbort: WouldAbort | null = null;
  private watchedLimit = Infinity;
  observer: ReplayObserver | null = null;
  private qemuSteps: QemuPoolSteps | null = null;
  /** QEMU's global pool after a refill or take on each thread, to compare after that thread's next create (-1: none). */
  private pendingGlobal: number[] = [];

  /** `expectedCreates`, `expectedThreads`: when known (a parsed trace), the region is made to their size. */
  constructor(options: ReplayOptions, expectedCreates = INITIAL_STACK_CAPACITY, expectedThreads = INITIAL_THREAD_CAPACITY) {
    this.options = options;
    // Only a policy whose cap --uncapped lifts is uncapped; another (elastic) keeps the cap the limit gives it.
    this.hardMaxSize = options.hardMaxSize ?? poolHardMaxSize(options.maxMapCount, options.uncapped === true && policyDefinition(options.policy).liftableCap === true);
    // The region counts the stacks' VMAs only (see MAX_STACK_VMAS): its limit is the room above the baseline.
    const room = Math.min(options.maxMapCount - options.baselineVmas, MAX_STACK_VMAS);
    // Slots enough for every stack the replay can hold at once: no more than
    // the VMA limit allows; one more for the stack whose guard page fails.
    this.maxStackCapacity = Math.max(0, Math.floor(room / 2)) + 1;
    this.region = SharedRegion.create({
      policyId: policyId(options.policy),
      threads: expectedThreads,
      stackCapacity: Math.min(this.maxStackCapacity, expectedCreates + 1),
      // A room below 0: no mapping fits (the baseline alone is at or over the limit).
      vmaLimit: Math.max(room, -1),
      baselineVmas: 0,
      initialPoolMaxSize: initialPoolMaxSize(options.policy),
      hardMaxSize: this.hardMaxSize,
    });
    this.initialThreadCapacity = this.region.threadCapacity;
    this.stacks = new StackAllocator(this.region);
    this.policy = openPolicy(this.region, this.stacks);
  }

  /** Also record where a VMA limit of `limit` would have aborted this replay. */
  watchLimit(limit: number): void {
    this.watchedLimit = limit;
  }

  threadsSeen(count: number): void {
    if (count > this.region.threadCapacity) this.regrow(Math.max(count, 2 * this.region.threadCapacity), this.region.stackCapacity);
    for (let t = this.threadCount; t < count; t++) this.threadStacks.push(new ThreadStacks(this.region, this.policy, this.stacks, t));
    this.threadCount = count;
  }

  inc(amount: number, line: number, time: number): void {
    if (this.failure !== null) return;
    this.events++;
    this.policy.incPoolSize(amount);
    this.tick(time);
    if (this.observer !== null) this.observer(this, -1, line, time);
  }

  dec(amount: number, line: number, time: number): void {
    if (this.failure !== null) return;
    this.events++;
    this.policy.decPoolSize(amount);
    this.tick(time);
    if (this.observer !== null) this.observer(this, -1, line, time);
  }

  create(thread: number, co: number, line: number, time: number): void {
    if (this.failure !== null) return;
    this.events++;
    const i32 = this.region.i32;
    const before = i32[Vma.CURRENT]!;
    if (before >> 1 >= this.region.stackCapacity) this.growStackTable();
    let slot: number;
    try {
      slot = this.threadStacks[thread]!.acquireStack();
    } catch (err) {
      if (!(err instanceof VmaExhaustedError)) throw err;
      this.failure = { line, error: err.vmaMessage };
      this.notePeak(line, time);
      return;
    }
    if (co >= this.slotOf.length) this.slotOf = grownIds(this.slotOf, co);
    this.slotOf[co] = slot;
    this.live++;
    const after = this.region.i32[Vma.CURRENT]!;
    if (after > this.peakVmas) this.notePeak(line, time);
    if (after !== before && this.wouldAbort === null) this.watchMapping(before, line, time);
    if (this.qemuSteps !== null) this.comparePending(thread, line);
    this.tick(time);
    if (this.observer !== null) this.observer(this, thread, line, time);
  }

  terminate(thread: number, co: number, line: number, time: number): void {
    if (this.failure !== null) return;
    this.events++;
    this.live--;
    this.threadStacks[thread]!.releaseStack(this.slotOf[co]!);
    this.tick(time);
    if (this.observer !== null) this.observer(this, thread, line, time);
  }

  exit(thread: number, line: number, time: number): void {
    if (this.failure !== null) return;
    this.events++;
    this.exits++;
    this.threadStacks[thread]!.exit();
    this.tick(time);
    if (this.observer !== null) this.observer(this, thread, line, time);
  }

  /**
   * A patched QEMU's pool operation: counted, its lock counted, and QEMU's
   * global pool compared with the replay's (a refill's or take's after the
   * thread's next create). On QEMU's clock a decay event ends the policy's
   * period here.
   */
  poolOperation(op: PoolOperation, line: number, time: number): void {
    if (this.failure !== null) return;
    const steps = (this.qemuSteps ??= { operations: 0, lockAcquisitions: 0, checked: 0, exact: 0, maxDiff: 0, firstDiffLine: 0, qemuDecayFreed: 0, replayDecayFreed: 0 });
    steps.operations++;
    if (tookGlobalLock(op)) steps.lockAcquisitions++;
    const global = op.fields.global!;
    if (op.kind === "refill" || op.kind === "take_donated") {
      if (op.thread >= 0) this.pendingGlobal[op.thread] = global;
      return;
    }
    if (op.kind === "decay") {
      steps.qemuDecayFreed += op.fields.freed!;
      if (this.options.decayClock === "qemu" && this.policy.endDecayPeriod !== undefined) {
        const before = this.stacks.vmas.current;
        this.policy.endDecayPeriod(time / MICROS_PER_MS);
        steps.replayDecayFreed += (before - this.stacks.vmas.current) / 2;
      }
    }
    this.compareGlobal(global, line);
  }

  /** After `thread`'s create: QEMU's global pool after the refill or take that served it, if one was traced. */
  private comparePending(thread: number, line: number): void {
    const pending = this.pendingGlobal[thread] ?? -1;
    if (pending < 0) return;
    this.pendingGlobal[thread] = -1;
    this.compareGlobal(pending, line);
  }

  private compareGlobal(qemuGlobal: number, line: number): void {
    const steps = this.qemuSteps!;
    const diff = this.policy.globalPoolSize() - qemuGlobal;
    steps.checked++;
    if (diff === 0) steps.exact++;
    else if (steps.firstDiffLine === 0) steps.firstDiffLine = line;
    if (Math.abs(diff) > Math.abs(steps.maxDiff)) steps.maxDiff = diff;
  }

  /**
   * The policy's clock (elastic decays on it): the line's time in ms when it
   * has one, else the events so far, read as QEMU's own pace. On QEMU's
   * clock (decayClock "qemu") only QEMU's decay events end a period.
   */
  private tick(time: number): void {
    if (this.options.decayClock === "qemu") return;
    this.policy.tick(time === NO_TIME ? this.events / POOL_EVENTS_PER_MS : time / MICROS_PER_MS);
  }

  /** Stacks mapped now: live, pooled and leaked. */
  mappedStacks(): number {
    return this.region.i32[Vma.CURRENT]! >> 1;
  }

  /** Stacks in `thread`'s local pool now. */
  pooledOn(thread: number): number {
    return this.policy.localPoolSize(thread);
  }

  /** Stacks in the shared pool now. */
  pooledGlobally(): number {
    return this.policy.globalPoolSize();
  }

  get threads(): number {
    return this.threadCount;
  }

  /** Thread slots the region had when the replay began: a policy's cap may count them (elastic's does). */
  readonly initialThreadCapacity: number;

  /** The state at the end, or at the abort. `firstTime`: the input's first time, the origin of peak.seconds. */
  outcome(view: { showPeak: boolean; firstTime: number }): ReplayOutcome {
    const { region, policy, stacks } = this;
    const { baselineVmas } = this.options;
    const totals = region.totals();
    const peak: ReplayPeak = {
      stacks: Math.floor(stacks.vmas.peak / 2),
      vmas: baselineVmas + stacks.vmas.peak,
      line: this.peakLine,
      seconds: this.peakTime === NO_TIME || view.firstTime === NO_TIME ? null : (this.peakTime - view.firstTime) / 1e6,
    };
    const result: ReplayResult = {
      policy: this.options.policy,
      events: this.events,
      stacksCreated: totals.created,
      stacksFreed: totals.freed,
      live: this.live,
      pooled: {
        global: policy.globalPoolSize(),
        threads: this.threadStacks.map((_, t) => policy.localPoolSize(t)),
      },
      vmas: {
        baseline: baselineVmas,
        limit: this.options.maxMapCount,
        final: baselineVmas + stacks.vmas.current,
        peak: baselineVmas + stacks.vmas.peak,
      },
      failure: this.failure,
    };
    if (view.showPeak) result.peak = peak;
    // A policy without a global lock never counts an acquisition.
    const globalLockAcquisitions = lockAcquisitions(region);
    return { result, leakedStacks: totals.leaked, hardMaxSize: this.hardMaxSize, globalLockAcquisitions, peak, region, qemuSteps: this.qemuSteps };
  }

  private notePeak(line: number, time: number): void {
    const vmas = this.region.i32[Vma.CURRENT]!;
    if (vmas <= this.peakVmas) return;
    this.peakVmas = vmas;
    this.peakLine = line;
    this.peakTime = time;
  }

  /**
   * A new stack was mapped with the count at `before`: under the watched
   * limit, the mmap would have failed past it, or else the guard page.
   */
  private watchMapping(before: number, line: number, time: number): void {
    const count = this.options.baselineVmas + before;
    if (count + 1 > this.watchedLimit) this.wouldAbort = { line, time, error: STACK_ALLOC_FAILED };
    else if (count + 2 > this.watchedLimit) this.wouldAbort = { line, time, error: GUARD_PAGE_FAILED };
  }

  private growStackTable(): void {
    this.regrow(this.region.threadCapacity, Math.min(this.maxStackCapacity, 2 * this.region.stackCapacity));
  }

  /** Moves the replay into a bigger region (see region-growth.ts) and reopens everything on it. */
  private regrow(threads: number, stackCapacity: number): void {
    this.region = regrownRegion(this.region, threads, stackCapacity);
    this.stacks = new StackAllocator(this.region);
    this.policy = openPolicy(this.region, this.stacks);
    this.threadStacks = this.threadStacks.map((_, t) => new ThreadStacks(this.region, this.policy, this.stacks, t));
  }
}

function grownIds(ids: Int32Array, needed: number): Int32Array {
  const grown = new Int32Array(Math.max(needed + 1, 2 * ids.length));
  grown.set(ids);
  return grown;
}

function lockAcquisitions(region: SharedRegion): number {
  let n = 0;
  for (let t = 0; t < region.threadCapacity; t++) n += region.threadWord(t, Thread.STAT_LOCK_ACQUISITIONS);
  return n;
}
