/**
 * The worst-case schedule of a VM's demand (demand.ts), as a coropool trace
 * (docs/design.md, "The trace format" and "Plan: a VM's worst case"):
 *
 *   threads N, then `inc K` (the devices' pool increase, made at realize);
 *   then rounds, each of two parts:
 *   1. in turn: each thread alone reaches its most coroutines at once (every
 *      source it creates for, full), then they all terminate, each on the
 *      thread its I/O completes in;
 *   2. all at once: every source full at the same time (a source started in
 *      the vCPUs spreads over them), then every coroutine terminates.
 *   Rounds repeat until SETTLE_ROUNDS rounds in a row raise no policy's
 *   peak, or the schedule reaches MAX_ROUNDS or MAX_SCHEDULE_EVENTS (then it
 *   is reported unsettled: a peak still growing is a lower bound).
 *
 * Why these parts: a pool keeps what the threads that free coroutines hand
 * it. A thread alone at its most leaves the most in its own pools (legacy's
 * alloc pool, batched's local batches, up to their bounds); all at once puts
 * the most stacks live (the peak of `none`, and what every pool must add to
 * what it keeps). Terminating on the completing thread is where QEMU frees
 * them. Repeating lets stacks that one part left in one thread's pool be the
 * ones another part cannot reuse, until nothing changes.
 */
import { NO_TIME, type PoolEventSink } from "../replay/pool-events.js";
import type { Demand, DemandSource } from "./demand.js";

/** A part of the schedule: its trace lines are firstLine..lastLine (1-based, as replay numbers them). */
export interface SchedulePart {
  readonly round: number;
  readonly name: string;
  readonly firstLine: number;
  readonly lastLine: number;
  /** Coroutines live at the part's top. */
  readonly live: number;
}

/** Rounds in a row that must leave every policy's peak where it was for the schedule to be settled. */
export const SETTLE_ROUNDS = 3;
/** The most rounds, and the most events, a schedule runs before it is cut short (reported as not settled). */
export const MAX_ROUNDS = 32;
export const MAX_SCHEDULE_EVENTS = 4_000_000;

/** Events in one round. */
export function roundEvents(parts: readonly Part[]): number {
  return parts.reduce((sum, p) => sum + p.steps.length, 0);
}

/** One create or terminate: thread, coroutine number within its part. */
export type Step = readonly [kind: "create" | "terminate", thread: number, co: number];

/** The steps of one part; coroutine numbers start at 0 in each part (all are dead at its end). */
export interface Part {
  readonly name: string;
  readonly steps: readonly Step[];
  readonly live: number;
}

/** The parts of one round, the same in every round. */
export function roundParts(demand: Demand): Part[] {
  const parts: Part[] = [];
  for (const thread of demand.threads) {
    const mine = demand.sources.filter((s) => s.creators.includes(thread.index));
    if (mine.length === 0) continue;
    const batches = mine.map((s) => ({ source: s, creator: thread.index, count: s.coroutines }));
    parts.push(part(`${thread.name} alone at its most (${mine.map((s) => s.device).join(", ")})`, batches));
  }
  const spread = demand.sources.flatMap((s) => spreadOverCreators(s));
  if (spread.length > 0) parts.push(part("every thread at its most at once", spread));
  return parts;
}

/** A source's coroutines dealt over its creators as evenly as they go (the first get one more). */
function spreadOverCreators(source: DemandSource): { source: DemandSource; creator: number; count: number }[] {
  const n = source.creators.length;
  return source.creators.map((creator, i) => ({ source, creator, count: Math.floor(source.coroutines / n) + (i < source.coroutines % n ? 1 : 0) }))
    .filter((b) => b.count > 0);
}

/** Create every batch's coroutines, creators interleaved one at a time; then terminate them in the same order on their terminators. */
function part(name: string, batches: readonly { source: DemandSource; creator: number; count: number }[]): Part {
  const steps: Step[] = [];
  const owners: number[] = [];
  const left = batches.map((b) => b.count);
  let co = 0;
  for (let more = true; more; ) {
    more = false;
    batches.forEach((b, i) => {
      if (left[i]! === 0) return;
      left[i]!--;
      steps.push(["create", b.creator, co++]);
      owners.push(b.source.terminator);
      more = true;
    });
  }
  owners.forEach((terminator, c) => steps.push(["terminate", terminator, c]));
  return { name, steps, live: co };
}

/**
 * The schedule being written: its trace's lines, its parts, and every event
 * fed as it is written to `sink` (the replays that decide how long it runs
 * and, for the hoard phase, what it does next).
 */
export class ScheduleBuilder {
  readonly lines: string[] = [];
  readonly parts: SchedulePart[] = [];
  events = 0;
  private open: { round: number; name: string; firstLine: number; live: number; most: number } | null = null;

  constructor(demand: Demand, title: string, private readonly sink: PoolEventSink) {
    this.lines.push(`# coropool plan: the worst-case schedule of ${title}`);
    for (const t of demand.threads) this.lines.push(`# T${t.index}: ${t.name}`);
    this.lines.push(`threads ${demand.threads.length}`);
    sink.threadsSeen(demand.threads.length);
    for (const p of demand.poolIncrease) {
      this.lines.push(`inc ${p.amount} # ${p.device}: ${p.why}`);
      this.events++;
      sink.inc(p.amount, this.lines.length, NO_TIME);
    }
  }

  /** A whole part: its steps written and fed. */
  add(round: number, p: Part): void {
    this.begin(round, p.name);
    for (const [kind, thread, co] of p.steps) this.step(kind, thread, co);
    this.end();
  }

  begin(round: number, name: string): void {
    this.lines.push(`# round ${round}: ${name}`);
    this.open = { round, name, firstLine: this.lines.length + 1, live: 0, most: 0 };
  }

  step(kind: "create" | "terminate", thread: number, co: number): void {
    this.lines.push(`${kind} T${thread} c${co}`);
    this.events++;
    const open = this.open!;
    if (kind === "create") {
      open.most = Math.max(open.most, ++open.live);
      this.sink.create(thread, co, this.lines.length, NO_TIME);
    } else {
      open.live--;
      this.sink.terminate(thread, co, this.lines.length, NO_TIME);
    }
  }

  end(): void {
    const { round, name, firstLine, most } = this.open!;
    this.parts.push({ round, name, firstLine, lastLine: this.lines.length, live: most });
    this.open = null;
  }

  text(): string {
    return this.lines.join("\n") + "\n";
  }

  /** The part a trace line belongs to, or null (a header line). */
  partAt(line: number): SchedulePart | null {
    return this.parts.find((p) => line >= p.firstLine && line <= p.lastLine) ?? null;
  }
}
