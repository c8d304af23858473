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
    return { time: new Date(now).toISOString(), maxMapCount, processes };
  }

  private track(snap: ProcessSnapshot, now: number): WatchedProcess {
    let history = this.histories.get(snap.pid);
    if (history === undefined || (snap.startTime !== null && history.startTime !== snap.startTime)) {
      history = { startTime: snap.startTime, peak: null, points: [] };
      this.histories.set(snap.pid, history);
    }
    if (snap.stacks === null) return { ...snap, peakStacks: history.peak, trend: null };
    history.peak = Math.max(history.peak ?? 0, snap.stacks);
    history.points.push({ at: now, stacks: snap.stacks });
    while (history.points.length > 1 && history.points[0]!.at < now - this.windowMs) history.points.shift();
    return { ...snap, peakStacks: history.peak, trend: trendOf(history.points) };
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
