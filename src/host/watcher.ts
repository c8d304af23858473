/**
 * Watching processes over time: each sample is a snapshot of every watched
 * process, with what one snapshot cannot know — the peak stacks seen since
 * watching began and the trend (stacks a minute over the last window).
 * Stacks grow in steps and level off, so the trend is a rate, never turned
 * into a time to the limit.
 */
import { readMaxMapCount } from "../vma/limits.js";
import type { PolicyOverrides } from "./process-info.js";
import { listQemuProcesses, snapshot, type ProcessSnapshot } from "./snapshot.js";

/** How far back the trend looks by default: 5 minutes. */
export const DEFAULT_TREND_WINDOW_MS = 300_000;
const MS_PER_MINUTE = 60_000;

export interface WatchedProcess extends ProcessSnapshot {
  /** The most stacks seen in this process since watching began (null until it was read once). */
  peakStacks: number | null;
  /**
   * Stacks a minute over the last window: the net change from the window's
   * first sample to this one over the time between them. null until two
   * samples lie in the window.
   */
  trend: number | null;
  /** The VM's worst case under its policy, from the plan of its own command line (plan --pid); null until planned, or when it cannot be. */
  ceiling: Ceiling | null;
  /** Why there is no ceiling: still being planned, or why the command line cannot be planned. Absent with a ceiling, or when the watch plans nothing. */
  unplanned?: string;
}

/** A plan's worst case for one process, against the host's limit now. */
export interface Ceiling {
  /** The plan's row: the process's policy ("legacy", "batched (uncapped)", or the one given for its pid). */
  policy: string;
  /** Stacks and VMAs mapped at the worst case. */
  stacks: number;
  vmas: number;
  /** max_map_count less the worst-case VMAs: negative, the VM can exhaust its limit under its worst case. */
  headroom: number;
}

/** The reason a ceiling gives while its plan is being made. */
export const PLANNING = "planning";

/** What a plan says about a process, without the limit: a worst case, or why there is none (yet). */
export type PlannedCeiling = { policy: string; stacks: number; vmas: number } | { unplanned: string };

/**
 * Where a watch finds each process's ceiling: planning is above this layer
 * (the api's watch injects it). It answers at once with what it knows, and
 * plans what it does not know yet without the sample waiting for it.
 */
export interface CeilingSource {
  ceilingOf(snap: ProcessSnapshot): PlannedCeiling;
  /** The processes watched now: the source may forget the others. */
  keepOnly(snaps: readonly ProcessSnapshot[]): void;
}

export interface WatchSample {
  /** When the sample was taken (ISO 8601). */
  time: string;
  maxMapCount: number;
  processes: WatchedProcess[];
}

export interface WatcherOptions {
  /** The pids to watch, whatever they run; default: every QEMU system emulator, found anew each sample. */
  pids?: readonly number[];
  stackSize?: number;
  policyOverrides?: PolicyOverrides;
  trendWindowMs?: number;
  /** The ceiling of each process; without it, ceiling is null. */
  ceilings?: CeilingSource;
}

/** One process's history: its samples in the window, and its peak. */
interface History {
  startTime: number | null;
  peak: number | null;
  points: { at: number; stacks: number }[];
}

export class Watcher {
  private readonly histories = new Map<number, History>();
  private readonly windowMs: number;

  constructor(private readonly options: WatcherOptions = {}) {
    this.windowMs = options.trendWindowMs ?? DEFAULT_TREND_WINDOW_MS;
  }

  /** Every watched process now. A given pid that exited stays in the sample, marked unreadable. */
  sample(now = Date.now()): WatchSample {
    const maxMapCount = readMaxMapCount().value;
    const pids = this.options.pids ?? listQemuProcesses();
    const processes = pids.map((pid) => this.track(snapshot(pid, { ...this.options, maxMapCount }), now));
    // Found processes that are gone are forgotten; a pid that comes back is a new process.
    for (const pid of this.histories.keys()) if (!pids.includes(pid)) this.histories.delete(pid);
    this.options.ceilings?.keepOnly(processes);
    return { time: new Date(now).toISOString(), maxMapCount, processes: processes.map((p) => this.withCeiling(p)) };
  }

  /** The sample with the ceilings known now (a caller that waited for the plans takes them so). */
  withCeilings(sample: WatchSample): WatchSample {
    return { ...sample, processes: sample.processes.map((p) => this.withCeiling(p)) };
  }

  private withCeiling(p: WatchedProcess): WatchedProcess {
    const { unplanned: _, ...rest } = p;
    const source = this.options.ceilings;
    if (source === undefined) return { ...rest, ceiling: null };
    const planned = source.ceilingOf(p);
    if ("unplanned" in planned) return { ...rest, ceiling: null, unplanned: planned.unplanned };
    return { ...rest, ceiling: { ...planned, headroom: p.maxMapCount - planned.vmas } };
  }

  private track(snap: ProcessSnapshot, now: number): WatchedProcess {
    let history = this.histories.get(snap.pid);
    if (history === undefined || (snap.startTime !== null && history.startTime !== snap.startTime)) {
      history = { startTime: snap.startTime, peak: null, points: [] };
      this.histories.set(snap.pid, history);
    }
    if (snap.stacks === null) return { ...snap, peakStacks: history.peak, trend: null, ceiling: null };
    history.peak = Math.max(history.peak ?? 0, snap.stacks);
    history.points.push({ at: now, stacks: snap.stacks });
    while (history.points.length > 1 && history.points[0]!.at < now - this.windowMs) history.points.shift();
    return { ...snap, peakStacks: history.peak, trend: trendOf(history.points), ceiling: null };
  }
}

/** The net change a minute from the first point to the last; null for fewer than two or no time between them. */
export function trendOf(points: readonly { at: number; stacks: number }[]): number | null {
  if (points.length < 2) return null;
  const first = points[0]!;
  const last = points.at(-1)!;
  const minutes = (last.at - first.at) / MS_PER_MINUTE;
  return minutes > 0 ? (last.stacks - first.stacks) / minutes : null;
}
