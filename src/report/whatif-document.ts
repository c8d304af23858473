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
}

/** What the input held, whatever the policy. */
export interface WhatIfInput {
  format: InputFormat;
  lines: number;
  hasTimes: boolean;
  /** The most coroutines live at once, and how many were created. */
  maxLive: number;
  creates: number;
  /** For a QEMU log: its events, its threads and the pool increase applied. */
  qemu: QemuLogFacts | null;
}

export function whatIfReport(result: WhatIfResult, source: string): WhatIfReport {
  const { format, lines, hasTimes, maxLive, creates, qemu } = result.input;
  return {
    command: "whatif",
    source,
    input: { format, lines, hasTimes, maxLive, creates, qemu },
    maxMapCount: result.maxMapCount,
    baselineVmas: result.baselineVmas,
    axis: result.axis,
    rows: result.rows,
  };
}

/** Whether any policy aborts at the limit asked about (the command's exit 3). */
export function someAbort(report: WhatIfReport): boolean {
  return report.rows.some((r) => r.abort !== null);
}

/** The stacks `maxMapCount` leaves room for above the baseline: two VMAs each (the stack and its guard page). */
export function stacksUnderLimit(report: Pick<WhatIfReport, "maxMapCount" | "baselineVmas">): number {
  return Math.max(0, Math.floor((report.maxMapCount - report.baselineVmas) / 2));
}
