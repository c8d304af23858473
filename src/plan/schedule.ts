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
 *   is reported unsettled: a peak still growing is a lower bound). Then,
 *   where a thread creates coroutines another frees, hoard passes
 *   (hoard.ts), written by plan.ts with this file's ScheduleBuilder.
 *
 * Why these parts: a pool keeps what the threads that free coroutines hand
 * it. A thread alone at its most leaves the most in its own pools (legacy's
 * alloc pool, batched's local batches, up to their bounds); all at once puts
 * the most stacks live (the peak of `none`, and what every pool must add to
 * what it keeps). Terminating on the completing thread is where QEMU frees
 * them. Repeating lets stacks that one part left in one thread's pool be the
 * ones another part cannot reuse, until nothing changes.
 */
import type { TraceEvents } from "../replay/line-source.js";
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

/** Event kinds in the schedule's log. */
const CREATE = 0;
const TERMINATE = 1;
const INC = 2;
/** Int32 words an event takes in the log: kind, thread (or amount), coroutine, line. */
const EVENT_WORDS = 4;

/**
 * The schedule being written: every event fed, as it is added, to `sink`
 * (the replays that decide how long it runs and, for the hoard phase, what
 * it does next), and kept in a compact log with the line it has in the
 * trace's text. The log is the trace's events for whatIf (TraceEvents: fed
 * again without text); the text is made only when asked for (-o).
 */
export class ScheduleBuilder implements TraceEvents {
  readonly name = "the worst-case schedule";
  readonly parts: SchedulePart[] = [];
  /** Comment lines, by line number; the header's and each part's. */
  private readonly comments = new Map<number, string>();
  private log = new Int32Array(EVENT_WORDS * 4096);
  events = 0;
  private lineCount = 0;

  /** Lines in the trace's text so far. */
  get lines(): number {
    return this.lineCount;
  }
  private live = 0;
  private maxLive = 0;
  private creates = 0;
  private open: { round: number; name: string; firstLine: number; live: number; most: number } | null = null;

  constructor(private readonly demand: Demand, title: string, private readonly sink: PoolEventSink) {
    this.comment(`# coropool plan: the worst-case schedule of ${title}`);
    for (const t of demand.threads) this.comment(`# T${t.index}: ${t.name}`);
    this.lineCount++; // threads N
    sink.threadsSeen(demand.threads.length);
    for (const p of demand.poolIncrease) {
      this.record(INC, p.amount, 0);
      sink.inc(p.amount, this.lineCount, NO_TIME);
    }
  }

  /** A whole part: its steps written and fed. */
  add(round: number, p: Part): void {
    this.begin(round, p.name);
    for (const [kind, thread, co] of p.steps) this.step(kind, thread, co);
    this.end();
  }

  begin(round: number, name: string): void {
    this.comment(`# round ${round}: ${name}`);
    this.open = { round, name, firstLine: this.lineCount + 1, live: 0, most: 0 };
  }

  step(kind: "create" | "terminate", thread: number, co: number): void {
    const open = this.open!;
    if (kind === "create") {
      this.record(CREATE, thread, co);
      open.most = Math.max(open.most, ++open.live);
      this.creates++;
      if (++this.live > this.maxLive) this.maxLive = this.live;
      this.sink.create(thread, co, this.lineCount, NO_TIME);
    } else {
      this.record(TERMINATE, thread, co);
      open.live--;
      this.live--;
      this.sink.terminate(thread, co, this.lineCount, NO_TIME);
    }
  }

  end(): void {
    const { round, name, firstLine, most } = this.open!;
    this.parts.push({ round, name, firstLine, lastLine: this.lineCount, live: most });
    this.open = null;
  }

  /** TraceEvents: every event again, as the text's decoder would deliver it. */
  feed(sink: PoolEventSink): { lines: number; maxLive: number; creates: number } {
    sink.threadsSeen(this.demand.threads.length);
    const log = this.log;
    for (let i = 0, end = this.events * EVENT_WORDS; i < end; i += EVENT_WORDS) {
      const kind = log[i]!;
      if (kind === CREATE) sink.create(log[i + 1]!, log[i + 2]!, log[i + 3]!, NO_TIME);
      else if (kind === TERMINATE) sink.terminate(log[i + 1]!, log[i + 2]!, log[i + 3]!, NO_TIME);
      else sink.inc(log[i + 1]!, log[i + 3]!, NO_TIME);
    }
    return { lines: this.lineCount, maxLive: this.maxLive, creates: this.creates };
  }

  /** The trace's text: what `replay` reads to the same events, line for line. */
  text(): string {
    const out: string[] = [];
    const log = this.log;
    let event = 0;
    for (let line = 1; line <= this.lineCount; line++) {
      const comment = this.comments.get(line);
      if (comment !== undefined) {
        out.push(comment);
        continue;
      }
      const i = event * EVENT_WORDS;
      if (event >= this.events || log[i + 3] !== line) {
        out.push(`threads ${this.demand.threads.length}`);
        continue;
      }
      event++;
      const kind = log[i]!;
      if (kind === INC) out.push(`inc ${log[i + 1]} # ${this.incWhy(log[i + 1]!)}`);
      else out.push(`${kind === CREATE ? "create" : "terminate"} T${log[i + 1]} c${log[i + 2]}`);
    }
    return out.join("\n") + "\n";
  }

  /** The part a trace line belongs to, or null (a header line). */
  partAt(line: number): SchedulePart | null {
    return this.parts.find((p) => line >= p.firstLine && line <= p.lastLine) ?? null;
  }

  private incWhy(amount: number): string {
    const item = this.demand.poolIncrease.find((p) => p.amount === amount)!;
    return `${item.device}: ${item.why}`;
  }

  private comment(text: string): void {
    this.comments.set(++this.lineCount, text);
  }

  private record(kind: number, a: number, b: number): void {
    if ((this.events + 1) * EVENT_WORDS > this.log.length) {
      const grown = new Int32Array(this.log.length * 2);
      grown.set(this.log);
      this.log = grown;
    }
    const i = this.events++ * EVENT_WORDS;
    this.log[i] = kind;
    this.log[i + 1] = a;
    this.log[i + 2] = b;
    this.log[i + 3] = ++this.lineCount;
  }
}
