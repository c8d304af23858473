/**
 * The what-if's report: what `coropool whatif --json` prints (versioned like
 * every other document, see document.ts) and what its HTML page is drawn
 * from. It is the engine's answer (replay/whatif.ts) with the input
 * described in plain JSON: no internal clock values, the source named.
 */
import type { InputFormat, QemuLogFacts } from "../replay/input-format.js";
import type { WhatIfResult, WhatIfRow } from "../replay/whatif.js";

export interface WhatIfReport {
  command: "whatif";
  /** The log or trace, as given. */
  source: string;
  input: WhatIfInput;
  /** The limit asked about, and the VMAs the process has besides stacks. */
  maxMapCount: number;
  baselineVmas: number;
  /** The series' x: seconds from the input's first time, or the pool event's number when it has no times. */
  axis: "seconds" | "event";
  /** One per policy asked (by default every policy, batched uncapped and capped). */
  rows: WhatIfRow[];
  /** Present only when a signal stopped the reading: the rows are those of the lines read before it. */
  interrupted?: true;
}

/** What the input held, whatever the policy. */
export interface WhatIfInput {
  format: InputFormat;
  lines: number;
  hasTimes: boolean;
  /** The most coroutines live at once, and how many were created. */
  maxLive: number;
  creates: number;
  /** False for an input in which no coroutine ever starts: no stack is ever mapped, under any policy. */
  hasCoroutineEvents: boolean;
  /** For a QEMU log: its events, its threads and the pool increase applied. */
  qemu: QemuLogFacts | null;
}

export function whatIfReport(result: WhatIfResult, source: string): WhatIfReport {
  const { format, lines, hasTimes, maxLive, creates, qemu } = result.input;
  return {
    command: "whatif",
    source,
    input: { format, lines, hasTimes, maxLive, creates, hasCoroutineEvents: creates > 0, qemu },
    maxMapCount: result.maxMapCount,
    baselineVmas: result.baselineVmas,
    axis: result.axis,
    rows: result.rows,
    ...(result.interrupted ? { interrupted: true as const } : {}),
  };
}

/** Whether any policy aborts at the limit asked about (the command's exit 3). */
export function someAbort(report: WhatIfReport): boolean {
  return report.rows.some((r) => r.abort !== null);
}

/**
 * What the reader must know before the table, one sentence each: an input
 * with no coroutine events, a baseline that leaves no room for a stack, an
 * answer cut short by a signal. Shared by the terminal and the page.
 */
export function whatIfNotes(report: WhatIfReport): string[] {
  const notes: string[] = [];
  if (report.interrupted) notes.push(`interrupted after line ${report.input.lines}: the answer is that of the lines read so far`);
  if (report.input.hasCoroutineEvents === false) {
    notes.push(`${report.source} has no coroutine events: no coroutine starts, so no policy maps a stack`);
  }
  const room = baselineRoomNote(report, report.input.hasCoroutineEvents !== false);
  if (room !== null) notes.push(room);
  return notes;
}

/**
 * A stack takes 2 VMAs: a baseline within 2 of the limit leaves room for
 * none. The note saying so, or null; `mapsStacks`: the input maps any.
 */
export function baselineRoomNote(report: Pick<WhatIfReport, "maxMapCount" | "baselineVmas">, mapsStacks: boolean): string | null {
  if (report.baselineVmas + 2 <= report.maxMapCount) return null;
  const over = report.baselineVmas > report.maxMapCount;
  const what = over ? `the baseline alone (${report.baselineVmas} VMAs) is over max_map_count ${report.maxMapCount}` : `the baseline (${report.baselineVmas} VMAs) leaves no room under max_map_count ${report.maxMapCount} for a stack (2 VMAs)`;
  return `${what}: ${mapsStacks ? "the first stack aborts" : "no stack would fit"}`;
}

/** The stacks `maxMapCount` leaves room for above the baseline: two VMAs each (the stack and its guard page). */
export function stacksUnderLimit(report: Pick<WhatIfReport, "maxMapCount" | "baselineVmas">): number {
  return Math.max(0, Math.floor((report.maxMapCount - report.baselineVmas) / 2));
}
