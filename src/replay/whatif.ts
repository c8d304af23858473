import type { VmaFailureMessage } from "../errors.js";
import { POLICY_NAMES, policyDefinition, type PolicyName } from "../pools/index.js";
import { batchedHardMaxSize, LARGEST_MAX_MAP_COUNT, poolHardMaxSize } from "../vma/limits.js";
import { decodeInput, type DecodedInput } from "./input-format.js";
import { inputName, type LogInput, type ReadProgress } from "./line-source.js";
import { sinkForAll, MICROS_PER_SECOND, NO_TIME } from "./pool-events.js";
import { NO_VMA_LIMIT, PolicyReplay } from "./replay.js";
import type { PolicySpec } from "./replay-log.js";
import { DEFAULT_SERIES_BUCKETS, MinMaxSeries, type SeriesPoint } from "./series.js";

export interface WhatIfOptions {
  /** Default: every policy, and batched twice: as QEMU runs it (uncapped) and as intended (capped). */
  policies?: readonly PolicySpec[];
  /** The limit asked about: does the workload abort under it, and where. */
  maxMapCount: number;
  baselineVmas: number;
  /** A QEMU log's pool increase (see replayLog). */
  poolIncrease?: number;
  source?: string;
  /** Buckets per series (each keeps its min and max); a few thousand points at most. */
  seriesBuckets?: number;
  /**
   * Stops the what-if between two chunks of the input: the answer is then
   * that of the lines read so far (`interrupted` says so), and a smallest
   * safe limit that needs another pass over the input is not sought (null).
   */
  signal?: AbortSignal;
  /** Told how far each pass over the input is, and which pass (a capped policy's search reads it again). */
  onProgress?: (done: number, total: number | undefined, step: string) => void;
}

/** One policy's answer. */
export interface WhatIfRow {
  policy: PolicyName;
  uncapped: boolean;
  /** "batched (uncapped)" etc. */
  label: string;
  /** With no VMA limit: the most stacks and VMAs at once, and when. */
  peakStacks: number;
  peakVmas: number;
  peakLine: number;
  peakSeconds: number | null;
  /** With no VMA limit: stacks mapped at the end (live + pooled + leaked). */
  mappedAtEnd: number;
  /**
   * Where the replay aborts at `maxMapCount`, or null when it completes:
   * the line, its time, and the number of the pool event (the series' x when
   * the input has no times).
   */
  abort: null | { line: number; seconds: number | null; event: number; error: VmaFailureMessage };
  /**
   * The least max_map_count under which the run fits (the baseline and
   * every stack) and the replay completes, computed exactly (see
   * smallestSafeCapped for a policy whose cap depends on it); null when
   * `noSafeMaxMapCount`, or for a policy whose dependence on the limit this
   * engine cannot enumerate, or when the what-if was interrupted before it
   * could seek it.
   */
  smallestSafeMaxMapCount: number | null;
  /** No max_map_count up to LARGEST_MAX_MAP_COUNT (2^31 - 1) lets the run complete. */
  noSafeMaxMapCount: boolean;
  globalLockAcquisitions: number;
  series: WhatIfSeries;
}

/** Series for charts: x in seconds from the first time when the log has times, else the event number. */
export interface WhatIfSeries {
  mapped: SeriesPoint[];
  live: SeriesPoint[];
  globalPooled: SeriesPoint[];
  /** Per thread: stacks in its local pool. */
  pooledByThread: SeriesPoint[][];
}

export interface WhatIfResult {
  input: DecodedInput;
  maxMapCount: number;
  baselineVmas: number;
  axis: "seconds" | "event";
  rows: WhatIfRow[];
  /** The signal stopped the reading: the rows are those of `input.lines` lines. */
  interrupted: boolean;
}

/**
 * Every policy in the registry's order; one that obeys the hard cap twice:
 * first uncapped (batched as QEMU ships it on Linux), then capped (as intended).
 */
export function defaultWhatIfPolicies(): PolicySpec[] {
  const specs: PolicySpec[] = [];
  for (const policy of POLICY_NAMES) {
    if (policyDefinition(policy).liftableCap) specs.push({ policy, uncapped: true });
    specs.push({ policy });
  }
  return specs;
}

/** How many capped batched replays one extra pass over the input runs in lockstep. */
const CAPS_PER_PASS = 8;

/**
 * The what-if of a log or trace: per policy, what the workload needs (peak,
 * what stays mapped), whether it survives `maxMapCount`, and the least
 * max_map_count that keeps it alive. One pass for all policies; batched with
 * its cap may need a few more (the input is read again: give a path or a text).
 *
 * Each policy runs with no VMA limit (the counter never refuses), its hard
 * cap the one `maxMapCount` gives; a watch records where `maxMapCount` would
 * have refused a mapping. Up to that point a limited replay does exactly what
 * the unlimited one does (the limit only decides whether a mapping succeeds),
 * so that is exactly where the limited replay aborts.
 */
export async function whatIf(input: LogInput, options: WhatIfOptions): Promise<WhatIfResult> {
  const specs = options.policies ?? defaultWhatIfPolicies();
  const buckets = options.seriesBuckets ?? DEFAULT_SERIES_BUCKETS;
  const runs = specs.map((spec) => new ObservedRun(spec, options, poolHardMaxSize(options.maxMapCount, spec.uncapped === true), buckets));
  // A capped policy's search is bounded by the same policy's uncapped replay, run alongside whether asked for or not.
  const uncappedOf = new Map<PolicyName, ObservedRun>();
  for (const run of runs) {
    const { policy } = run.spec;
    if (policyDefinition(policy).hardCapStep === undefined || run.spec.uncapped || uncappedOf.has(policy)) continue;
    const asked = runs.find((r) => r.spec.policy === policy && r.spec.uncapped);
    uncappedOf.set(policy, asked ?? new ObservedRun({ policy, uncapped: true }, options, poolHardMaxSize(options.maxMapCount, true), 1));
  }
  const all = [...runs, ...[...uncappedOf.values()].filter((r) => !runs.includes(r))];
  const decoded = await decode(input, all.map((r) => r.replay), options, "whatif: reading");
  const axis = runs[0]?.byTimeAxis ? "seconds" : "event";
  const rows: WhatIfRow[] = [];
  for (const run of runs) {
    const smallestSafe = await smallestSafeMaxMapCount(run, uncappedOf.get(run.spec.policy), decoded, input, options);
    rows.push(run.row(decoded, smallestSafe));
  }
  return { input: decoded, maxMapCount: options.maxMapCount, baselineVmas: options.baselineVmas, axis, rows, interrupted: decoded.stopped };
}

async function decode(input: LogInput, replays: PolicyReplay[], options: WhatIfOptions, step: string): Promise<DecodedInput> {
  const { onProgress } = options;
  const progress: ReadProgress | undefined = onProgress === undefined ? undefined : (done, total) => onProgress(done, total, step);
  return decodeInput(input, sinkForAll(replays), { source: options.source ?? inputName(input), poolIncrease: options.poolIncrease ?? 0, signal: options.signal, onProgress: progress });
}

/** A replay with no VMA limit that watches `maxMapCount` and records series. */
class ObservedRun {
  readonly replay: PolicyReplay;
  /** The most stacks the global pool held after any event. */
  maxGlobalPooled = 0;
  private readonly mapped: MinMaxSeries;
  private readonly live: MinMaxSeries;
  private readonly globalPooled: MinMaxSeries;
  private readonly pooledByThread: MinMaxSeries[] = [];
  private events = 0;
  /** The axis is the first event's: by time if it has one, else by event number throughout. */
  private byTime: boolean | null = null;
  private lastTime = NO_TIME;
  /** The number of the event at which the watched limit would have aborted (0: none). */
  private abortEvent = 0;

  constructor(
    readonly spec: PolicySpec,
    options: WhatIfOptions,
    hardMaxSize: number,
    private readonly buckets: number,
  ) {
    this.replay = new PolicyReplay({ policy: spec.policy, maxMapCount: NO_VMA_LIMIT, baselineVmas: options.baselineVmas, hardMaxSize });
    this.replay.watchLimit(options.maxMapCount);
    this.mapped = new MinMaxSeries(buckets);
    this.live = new MinMaxSeries(buckets);
    this.globalPooled = new MinMaxSeries(buckets);
    this.replay.observer = (replay, thread, _line, time) => {
      this.events++;
      this.byTime ??= time !== NO_TIME;
      if (time !== NO_TIME) this.lastTime = time;
      if (this.abortEvent === 0 && replay.wouldAbort !== null) this.abortEvent = this.events;
      const x = this.byTime ? this.lastTime : this.events;
      const global = replay.pooledGlobally();
      if (global > this.maxGlobalPooled) this.maxGlobalPooled = global;
      this.mapped.add(x, replay.mappedStacks());
      this.live.add(x, replay.live);
      this.globalPooled.add(x, global);
      if (thread >= 0) this.threadSeries(thread).add(x, replay.pooledOn(thread));
    };
  }

  get byTimeAxis(): boolean {
    return this.byTime === true;
  }

  row(decoded: DecodedInput, smallestSafe: number | null): WhatIfRow {
    const outcome = this.replay.outcome({ showPeak: true, firstTime: decoded.firstTime });
    const r = outcome.result;
    const seconds = (time: number) => (time === NO_TIME || decoded.firstTime === NO_TIME ? null : (time - decoded.firstTime) / MICROS_PER_SECOND);
    // x is microseconds, or the event number: shown as seconds from the first time, or as it is.
    const byTime = this.byTime === true;
    const scale = byTime ? 1 / MICROS_PER_SECOND : 1;
    const shift = (points: SeriesPoint[]): SeriesPoint[] => (byTime ? points.map(([x, lo, hi, last]) => [x - decoded.firstTime / MICROS_PER_SECOND, lo, hi, last]) : points);
    const abort = this.replay.wouldAbort;
    return {
      policy: this.spec.policy,
      uncapped: this.spec.uncapped === true,
      label: policyLabel(this.spec),
      peakStacks: outcome.peak.stacks,
      peakVmas: outcome.peak.vmas,
      peakLine: outcome.peak.line,
      peakSeconds: outcome.peak.seconds,
      mappedAtEnd: this.replay.mappedStacks(),
      abort: abort === null ? null : { line: abort.line, seconds: seconds(abort.time), event: this.abortEvent, error: abort.error },
      smallestSafeMaxMapCount: smallestSafe !== null && smallestSafe <= LARGEST_MAX_MAP_COUNT ? smallestSafe : null,
      noSafeMaxMapCount: smallestSafe !== null && smallestSafe > LARGEST_MAX_MAP_COUNT,
      globalLockAcquisitions: outcome.globalLockAcquisitions,
      series: {
        mapped: shift(this.mapped.points(scale)),
        live: shift(this.live.points(scale)),
        globalPooled: shift(this.globalPooled.points(scale)),
        pooledByThread: Array.from({ length: r.pooled.threads.length }, (_, t) => shift(this.pooledByThread[t]?.points(scale) ?? [])),
      },
    };
  }

  private threadSeries(thread: number): MinMaxSeries {
    while (this.pooledByThread.length <= thread) this.pooledByThread.push(new MinMaxSeries(this.buckets));
    return this.pooledByThread[thread]!;
  }
}

export function policyLabel(spec: PolicySpec): string {
  return spec.uncapped ? `${spec.policy} (uncapped)` : spec.policy;
}

/**
 * The least max_map_count M under which the run fits and the replay
 * completes; a number past LARGEST_MAX_MAP_COUNT when none does.
 *
 * A replay at limit M fails at the first mapping whose mmap (count + 1) or
 * guard page (count + 2) would pass M. If the policy's decisions do not
 * depend on M, they are those of the unlimited replay, whose largest
 * count + 2 over all mappings is its peak VMA count P: the replay completes
 * iff P ≤ M, so the answer is P. With no stack ever mapped P is the baseline
 * (the process needs its own VMAs: a limit below them is not safe), or 1,
 * the least limit there is. A policy that ignores the hard cap never reads M,
 * nor does one whose cap `--uncapped` lifts, run so. One that obeys it is smallestSafeCapped, when
 * its definition says in what steps the cap acts; otherwise there is no
 * exact answer to give (null).
 */
async function smallestSafeMaxMapCount(
  run: ObservedRun,
  uncapped: ObservedRun | undefined,
  decoded: DecodedInput,
  input: LogInput,
  options: WhatIfOptions,
): Promise<number | null> {
  const { policy } = run.spec;
  const definition = policyDefinition(policy);
  if (!definition.usesHardCap || (run.spec.uncapped && definition.liftableCap)) return safeLimitOf(run.replay);
  // The search reads the input again: not after a stop.
  if (definition.hardCapStep === undefined || uncapped === undefined || decoded.stopped) return null;
  if (definition.hardCapStepNeedsNoExits && uncapped.replay.exits > 0) return null;
  // The cap with no thread holding a local pool names the class; with every thread of the input holding one, it bounds the search.
  const capOf = (holders: number) => (maxMapCount: number) => definition.globalPoolCap!(batchedHardMaxSize(maxMapCount), maxMapCount, holders);
  const classes = new CapClasses(capOf(0), definition.hardCapStep, capOf(uncapped.replay.threads));
  return smallestSafeCapped(policy, classes, uncapped, decoded, input, options);
}

function safeLimitOf(replay: PolicyReplay): number {
  return Math.max(1, replay.outcome({ showPeak: false, firstTime: NO_TIME }).peak.vmas);
}

/**
 * A policy whose global pool obeys a cap C(M, n) that grows with M (batched:
 * its hard cap H(M) = (M − 5000) / 2, 0 at or below 5001; elastic: H(M) less
 * two batches for each of the n threads holding a local pool at the moment,
 * and one batch), compared only with a pool size that is a multiple of its
 * step S (whole batches of 128). Why the search below is exact (said for
 * S = 128):
 *
 * 1. C enters the policy in one comparison only, when a full batch is handed
 *    over: it joins the global pool iff G < min(global_pool_max_size, C),
 *    where G, the global pool's size, is always a multiple of 128: only full
 *    batches go in and whole batches come out. For G = 128j, G < C iff
 *    j < ceil(C / 128). elastic's C(M, n) is C(M, 0) less 256n (while it is
 *    above 0), so ceil(C(M, n) / 128) = max(0, ceil(C(M, 0) / 128) − 2n):
 *    the replay depends on M only through the class k = ceil(C(M, 0) / 128),
 *    and every M of one class gives the same replay. (elastic also compares
 *    C with single stacks when a thread exits and donates: the search is
 *    made only for an input where none does.)
 * 2. C never falls as M grows, so the M of one class form one range, and
 *    the ranges ascend with k (CapClasses finds them).
 * 3. Within class k the replay is fixed, so (as for the other policies) it
 *    completes iff M ≥ P(k), its peak VMA count with no limit: the least
 *    safe M in the range is max(low, P(k)) if that is ≤ high.
 * 4. So the answer is that value for the first k that has one. No k needs
 *    a replay whose range lies wholly below baseline + 2 × (most coroutines
 *    live at once): every live coroutine holds a mapped stack, so P(k) is at
 *    least that for every k.
 * 5. Once C(M, T), with all T threads of the input holding a local pool,
 *    exceeds the most the global pool ever held in the uncapped replay,
 *    G < C holds at every hand-over of that replay (n ≤ T), so the replay of
 *    M's class is the uncapped one: every class from there on is that one
 *    replay, its range unbounded above, and it always has an answer. The
 *    search stops at the class of the least such M (CapClasses.lastClass).
 */
async function smallestSafeCapped(
  policy: PolicyName,
  classes: CapClasses,
  uncapped: ObservedRun,
  decoded: DecodedInput,
  input: LogInput,
  options: WhatIfOptions,
): Promise<number> {
  const lastK = classes.lastClass(uncapped.maxGlobalPooled);
  const mustHold = Math.max(1, options.baselineVmas + 2 * decoded.maxLive);
  let k = 0;
  while (k < lastK && classes.range(k).high < mustHold) k++;
  while (k < lastK) {
    const ks = Array.from({ length: Math.min(CAPS_PER_PASS, lastK - k) }, (_, i) => k + i);
    // Any M of class k gives its replay: its least, with no VMA limit (the watch above says where M aborts).
    const replays = ks.map((kk) => new PolicyReplay({ policy, maxMapCount: NO_VMA_LIMIT, baselineVmas: options.baselineVmas, hardMaxSize: batchedHardMaxSize(classes.range(kk).low) }));
    await decode(input, replays, options, `whatif: ${policy}'s cap, limits ${classes.range(k).low} and up`);
    for (let i = 0; i < ks.length; i++) {
      const { low, high } = classes.range(ks[i]!);
      const safe = Math.max(low, safeLimitOf(replays[i]!));
      if (safe <= high) return safe;
    }
    k += ks.length;
  }
  return Math.max(classes.range(lastK).low, safeLimitOf(uncapped.replay));
}

/**
 * The max_map_count values M by the class ceil(C(M) / step) of the cap C
 * they give with no thread holding a local pool; `capWithAll`: the cap with
 * every thread of the input holding one (the same for a cap that ignores them).
 */
class CapClasses {
  constructor(
    private readonly capOf: (maxMapCount: number) => number,
    readonly step: number,
    private readonly capWithAll: (maxMapCount: number) => number,
  ) {}

  /**
   * The class from which on every replay is the uncapped one: that of the
   * least M whose cap, with every thread holding a local pool, exceeds
   * `maxGlobalPooled` (the most the uncapped replay's global pool held).
   */
  lastClass(maxGlobalPooled: number): number {
    const beyond = new CapClasses(this.capWithAll, this.step, this.capWithAll).leastWithClassAtLeast(Math.floor(maxGlobalPooled / this.step) + 1);
    return beyond === null ? this.highest() : this.classOf(beyond);
  }

  /** The M whose class is k ≤ highest(): [low, high] (high is LARGEST_MAX_MAP_COUNT for the top class). */
  range(k: number): { low: number; high: number } {
    const low = k === 0 ? 1 : this.leastWithClassAtLeast(k)!;
    const next = this.leastWithClassAtLeast(k + 1);
    return { low, high: next === null ? LARGEST_MAX_MAP_COUNT : next - 1 };
  }

  /** The class of the largest M there is: no search goes past it. */
  highest(): number {
    return this.classOf(LARGEST_MAX_MAP_COUNT);
  }

  private classOf(maxMapCount: number): number {
    return Math.ceil(this.capOf(maxMapCount) / this.step);
  }

  /** The least M whose class is at least k (the class never falls as M grows), or null if none is. */
  private leastWithClassAtLeast(k: number): number | null {
    if (this.classOf(LARGEST_MAX_MAP_COUNT) < k) return null;
    let lo = 1;
    let hi = LARGEST_MAX_MAP_COUNT;
    while (lo < hi) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if (this.classOf(mid) >= k) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
