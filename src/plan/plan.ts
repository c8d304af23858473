/**
 * The plan of a VM: its demand (demand.ts), the worst-case schedule of it
 * (schedule.ts, hoard.ts) written until it settles, and that schedule run through the
 * deterministic replay under every policy (replay/whatif.ts): per policy the
 * worst-case stacks and VMAs, the smallest safe max_map_count, and whether
 * and where the limit asked about aborts it.
 */
import { NO_TIME, sinkForAll } from "../replay/pool-events.js";
import { NO_VMA_LIMIT, PolicyReplay } from "../replay/replay.js";
import type { PolicySpec } from "../replay/replay-log.js";
import { defaultWhatIfPolicies, whatIf, type WhatIfRow } from "../replay/whatif.js";
import { poolHardMaxSize } from "../vma/limits.js";
import type { QemuVersion } from "../vmconfig/qemu-rules.js";
import { poolOfVersion } from "../vmconfig/qemu-version.js";
import type { VmModel } from "../vmconfig/index.js";
import { demandOf, threadPoolVmas, type Demand } from "./demand.js";
import type { PlanInput } from "./plan-input.js";
import { addHoardPass, hoarders, legacyReleasePoolCap } from "./hoard.js";
import { MAX_ROUNDS, MAX_SCHEDULE_EVENTS, roundEvents, roundParts, ScheduleBuilder, SETTLE_ROUNDS, type Part, type SchedulePart } from "./schedule.js";

export interface PlanEngineOptions {
  readonly qemuVersion: QemuVersion | null;
  readonly maxMapCount: number;
  /** The VMAs besides the stacks of an idle QEMU (or as given). */
  readonly baselineVmas: number;
  /** Add the thread-pool workers the load brings (threadPoolVmas) to the baseline: true unless the baseline was given. */
  readonly withThreadPool?: boolean;
  /** Default: every policy, batched both uncapped (as shipped) and capped (as intended). */
  readonly policies?: readonly PolicySpec[];
  /** The schedule's title line names the VM so. */
  readonly title: string;
  readonly seriesBuckets?: number;
  readonly signal?: AbortSignal;
}

/** One policy's worst case: the what-if's row, with the parts of the schedule its peak and abort fall in. */
export interface PlanRow extends WhatIfRow {
  /** The schedule part at whose line the peak was reached. */
  peakPart: string | null;
  /** Where the limit asked about aborts it: the schedule's part, or null when it fits. */
  abortPart: string | null;
  /** The policy the planned QEMU version runs (legacy up to 8.2, batched uncapped from 9.0). */
  thisQemu: boolean;
}

export interface PlanSchedule {
  readonly rounds: number;
  /** Its last rounds (or its last hoard pass) raised no policy's peak; false when cut short by its size or a signal. */
  readonly settled: boolean;
  /** Hoard passes after the rounds (0: no thread creates coroutines another frees). */
  readonly hoardPasses: number;
  readonly parts: readonly SchedulePart[];
  /** Lines in the schedule's trace. */
  readonly lines: number;
  /** The schedule as a coropool trace, made when called: `replay` reruns it. */
  readonly trace: () => string;
}

export interface PlanOutcome {
  readonly demand: Demand;
  /** The baseline the replays ran with: the idle one, and the thread-pool workers added to it. */
  readonly baseline: { readonly vmas: number; readonly threadPool: number; readonly threadPoolWhy: string };
  readonly schedule: PlanSchedule;
  readonly rows: PlanRow[];
  readonly interrupted: boolean;
}

/**
 * The plan of what plan-input.ts read: its version, its baseline (the load's
 * thread pool added unless the baseline was given) and a title naming it.
 * What every door plans through: the API, watch's ceilings, validate:qemu.
 */
export function planOfInput(input: PlanInput, options: Pick<PlanEngineOptions, "maxMapCount" | "policies" | "seriesBuckets" | "signal">): Promise<PlanOutcome> {
  return planOf(input.model, {
    ...options,
    qemuVersion: input.version,
    baselineVmas: input.baselineVmas.value,
    withThreadPool: !input.baselineGiven,
    title: input.model.name === null ? input.source : `VM ${input.model.name} (${input.source})`,
  });
}

export async function planOf(model: VmModel, options: PlanEngineOptions): Promise<PlanOutcome> {
  const demand = demandOf(model, options.qemuVersion);
  const specs = options.policies ?? defaultWhatIfPolicies();
  const pool = threadPoolVmas(demand);
  const threadPool = options.withThreadPool === false ? 0 : pool.vmas;
  const baselineVmas = options.baselineVmas + threadPool;
  const builder = await writeSchedule(demand, specs, { ...options, baselineVmas });
  const result = await whatIf({ events: builder.schedule }, {
    policies: specs,
    maxMapCount: options.maxMapCount,
    baselineVmas,
    source: "the worst-case schedule",
    seriesBuckets: options.seriesBuckets,
    signal: options.signal,
  });
  const mine = poolOfVersion(options.qemuVersion);
  const { schedule } = builder;
  const rows = result.rows.map((row): PlanRow => ({
    ...row,
    peakPart: partName(schedule.partAt(row.peakLine)),
    abortPart: row.abort === null ? null : partName(schedule.partAt(row.abort.line)),
    thisQemu: mine !== null && row.policy === mine.policy && row.uncapped === mine.uncapped,
  }));
  return {
    demand,
    baseline: { vmas: baselineVmas, threadPool, threadPoolWhy: pool.why },
    schedule: { rounds: builder.rounds, settled: builder.settled, hoardPasses: builder.hoardPasses, parts: schedule.parts, lines: schedule.lines, trace: () => schedule.text() },
    rows,
    interrupted: builder.stopped || result.interrupted,
  };
}

interface WrittenSchedule {
  schedule: ScheduleBuilder;
  rounds: number;
  settled: boolean;
  hoardPasses: number;
  /** The signal stopped the writing: the rows are those of the schedule so far. */
  stopped: boolean;
}

/** Lets a signal's handler run between two rounds: the schedule is written in one go otherwise. */
function betweenRounds(signal: AbortSignal | undefined): Promise<boolean> {
  return new Promise((done) => setImmediate(() => done(signal?.aborted === true)));
}

/**
 * The schedule, written and replayed at once: rounds until SETTLE_ROUNDS in
 * a row raise no policy's peak (at most MAX_ROUNDS and MAX_SCHEDULE_EVENTS),
 * then, where a thread creates coroutines another frees, hoard passes
 * (hoard.ts), each ended by every thread at its most at once, until one
 * raises no peak. The replays are those whatIf then runs over the text (the
 * same caps); a legacy replay steers the hoard phase whatever is asked.
 */
async function writeSchedule(demand: Demand, specs: readonly PolicySpec[], options: PlanEngineOptions): Promise<WrittenSchedule> {
  const replays = specs.map((spec) => new PolicyReplay({
    policy: spec.policy,
    maxMapCount: NO_VMA_LIMIT,
    baselineVmas: options.baselineVmas,
    // The cap whatIf gives each (its ObservedRun).
    hardMaxSize: poolHardMaxSize(options.maxMapCount, spec.uncapped === true),
  }));
  const guide = new PolicyReplay({ policy: "legacy", maxMapCount: NO_VMA_LIMIT, baselineVmas: options.baselineVmas });
  const schedule = new ScheduleBuilder(demand, options.title, sinkForAll([...replays, guide]));
  const peaks = () => replays.map(peakOf).join(" ");
  const parts = roundParts(demand);
  const perRound = Math.max(1, roundEvents(parts));
  let round = 0;
  let unchanged = 0;
  let before = peaks();
  let stopped = false;
  while (unchanged < SETTLE_ROUNDS && round < MAX_ROUNDS && schedule.events + perRound <= MAX_SCHEDULE_EVENTS) {
    if ((stopped = await betweenRounds(options.signal))) return { schedule, rounds: round, settled: false, hoardPasses: 0, stopped };
    round++;
    for (const p of parts) schedule.add(round, p);
    const now = peaks();
    unchanged = now === before ? unchanged + 1 : 0;
    before = now;
  }
  let settled = unchanged >= SETTLE_ROUNDS;
  let hoardPasses = 0;
  if (hoarders(demand).length > 0) {
    const refill = refillPart(demand, parts);
    const allAtOnce = parts.at(-1)!;
    for (let grew = true; grew; ) {
      if (hoardPasses === MAX_HOARD_PASSES || schedule.events > MAX_SCHEDULE_EVENTS || (stopped = await betweenRounds(options.signal))) {
        settled = false;
        break;
      }
      round++;
      hoardPasses++;
      addHoardPass(schedule, demand, round, guide, refill);
      schedule.add(round, allAtOnce);
      const now = peaks();
      grew = now !== before;
      before = now;
      settled = !grew;
    }
  }
  return { schedule, rounds: round, settled, hoardPasses, stopped };
}

/** Hoard passes at most: each after the first only adds what the one before left to take. */
const MAX_HOARD_PASSES = 4;

/**
 * The part that refills the release pool: of the round's parts of threads
 * that free what they create, the smallest that frees a full release pool
 * at once, else the largest (then it runs again until the pool stops growing).
 */
function refillPart(demand: Demand, parts: readonly Part[]): Part | null {
  const hoarding = new Set(hoarders(demand).map((h) => h.thread));
  const own = parts.slice(0, -1).filter((p) => !hoarding.has(threadOfPart(p))).sort((a, b) => a.live - b.live);
  const releaseCap = legacyReleasePoolCap(demand);
  return own.find((p) => p.live >= releaseCap) ?? own.at(-1) ?? null;
}

/** The thread a part's first step runs on (an "alone" part runs on one thread). */
function threadOfPart(p: Part): number {
  return p.steps[0]?.[1] ?? -1;
}

function partName(part: SchedulePart | null): string | null {
  return part === null ? null : `round ${part.round}: ${part.name}`;
}

function peakOf(replay: PolicyReplay): number {
  return replay.outcome({ showPeak: true, firstTime: NO_TIME }).result.vmas.peak;
}
