/**
 * The plan of a VM: its demand (demand.ts), the worst-case schedule of it
 * (schedule.ts) settled over rounds, and that schedule run through the
 * deterministic replay under every policy (replay/whatif.ts): per policy the
 * worst-case stacks and VMAs, the smallest safe max_map_count, and whether
 * and where the limit asked about aborts it.
 */
import type { PolicyName } from "../pools/index.js";
import { NO_TIME, sinkForAll } from "../replay/pool-events.js";
import { NO_VMA_LIMIT, PolicyReplay } from "../replay/replay.js";
import type { PolicySpec } from "../replay/replay-log.js";
import { defaultWhatIfPolicies, whatIf, type WhatIfRow } from "../replay/whatif.js";
import { poolHardMaxSize } from "../vma/limits.js";
import type { QemuVersion } from "../vmconfig/qemu-rules.js";
import type { VmModel } from "../vmconfig/index.js";
import { demandOf, type Demand } from "./demand.js";
import { feedRound, MAX_ROUNDS, MAX_SCHEDULE_EVENTS, roundEvents, roundParts, ScheduleText, SETTLE_ROUNDS, type SchedulePart } from "./schedule.js";

export interface PlanEngineOptions {
  readonly qemuVersion: QemuVersion | null;
  readonly maxMapCount: number;
  readonly baselineVmas: number;
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
  /** The last round left every policy where the one before left it; false when cut at MAX_ROUNDS. */
  readonly settled: boolean;
  readonly parts: readonly SchedulePart[];
  /** The schedule as a coropool trace: `replay` reruns it. */
  readonly trace: string;
}

export interface PlanOutcome {
  readonly demand: Demand;
  readonly schedule: PlanSchedule;
  readonly rows: PlanRow[];
  readonly interrupted: boolean;
}

export async function planOf(model: VmModel, options: PlanEngineOptions): Promise<PlanOutcome> {
  const demand = demandOf(model, options.qemuVersion);
  const specs = options.policies ?? defaultWhatIfPolicies();
  const parts = roundParts(demand);
  const { rounds, settled } = settleRounds(demand, parts, specs, options);
  const text = new ScheduleText(demand, options.title);
  for (let r = 1; r <= rounds; r++) text.addRound(r, parts);
  const trace = text.text();
  const result = await whatIf({ text: trace }, {
    policies: specs,
    maxMapCount: options.maxMapCount,
    baselineVmas: options.baselineVmas,
    source: "the worst-case schedule",
    seriesBuckets: options.seriesBuckets,
    signal: options.signal,
  });
  const mine = policyOfVersion(options.qemuVersion);
  const rows = result.rows.map((row): PlanRow => ({
    ...row,
    peakPart: partName(text.partAt(row.peakLine)),
    abortPart: row.abort === null ? null : partName(text.partAt(row.abort.line)),
    thisQemu: mine !== null && row.policy === mine.policy && row.uncapped === mine.uncapped,
  }));
  return { demand, schedule: { rounds, settled, parts: text.parts, trace }, rows, interrupted: result.interrupted };
}

function partName(part: SchedulePart | null): string | null {
  return part === null ? null : `round ${part.round}: ${part.name}`;
}

/**
 * QEMU's pool by version: up to 8.2 legacy; from 9.0 batched, whose hard cap
 * never applies on Linux (it reads max_map_count with a parser that rejects
 * the file's trailing newline). 8.2 < v < 9.0 does not exist.
 */
export function policyOfVersion(v: QemuVersion | null): { policy: PolicyName; uncapped: boolean } | null {
  if (v === null) return null;
  return v.major < 9 ? { policy: "legacy", uncapped: false } : { policy: "batched", uncapped: true };
}

/**
 * Rounds until SETTLE_ROUNDS in a row raise no policy's peak (the pools
 * stopped growing), at most MAX_ROUNDS and MAX_SCHEDULE_EVENTS. The replays
 * are fed the events directly, each round once: the text is written after,
 * with that many rounds. Legacy's pools in a thread that creates coroutines
 * another thread frees (a vCPU's requests, freed in the main loop) grow
 * only when that thread finds its pool empty as the release pool is full:
 * the rounds that take are the ones it needs.
 */
function settleRounds(demand: Demand, parts: ReturnType<typeof roundParts>, specs: readonly PolicySpec[], options: PlanEngineOptions): { rounds: number; settled: boolean } {
  const replays = specs.map((spec) => new PolicyReplay({
    policy: spec.policy,
    maxMapCount: NO_VMA_LIMIT,
    baselineVmas: options.baselineVmas,
    // The cap whatIf gives each (its ObservedRun): the settled rounds are those of the replays it runs.
    hardMaxSize: poolHardMaxSize(options.maxMapCount, spec.uncapped === true),
  }));
  const sink = sinkForAll(replays);
  sink.threadsSeen(demand.threads.length);
  // The schedule's text has one event line per increase: the replays count the same events (elastic's clock counts them).
  for (const p of demand.poolIncrease) sink.inc(p.amount, 0, NO_TIME);
  const perRound = Math.max(1, roundEvents(parts));
  const maxRounds = Math.max(1, Math.min(MAX_ROUNDS, Math.floor(MAX_SCHEDULE_EVENTS / perRound)));
  let peaks = "";
  let unchanged = 0;
  for (let round = 1; round <= maxRounds; round++) {
    feedRound(sink, parts);
    const now = replays.map(peakOf).join(" ");
    unchanged = now === peaks ? unchanged + 1 : 0;
    peaks = now;
    if (unchanged === SETTLE_ROUNDS) return { rounds: round, settled: true };
  }
  return { rounds: maxRounds, settled: false };
}

function peakOf(replay: PolicyReplay): number {
  return replay.outcome({ showPeak: true, firstTime: NO_TIME }).result.vmas.peak;
}
