/**
 * The what-if as the terminal shows it: the input, then one row per policy
 * (the same table the HTML page shows), then where each abort happens.
 */
import { isPolicyName, policyDefinition } from "../pools/index.js";
import type { WhatIfRow } from "../replay/whatif.js";
import { formatTable } from "../text-table.js";
import { describeLogInput } from "./log-input-text.js";
import { whatIfNotes, type WhatIfReport } from "./whatif-document.js";

export function formatWhatIf(report: WhatIfReport): string {
  const { header, rows } = whatIfTable(report);
  return [
    ...describeLogInput(report.source, report.input),
    `limit asked about: max_map_count ${report.maxMapCount}, with ${report.baselineVmas} VMAs besides the stacks`,
    ...whatIfNotes(report),
    "",
    formatTable(header, rows),
    ...abortLines(report),
  ].join("\n");
}

/** The table's header and rows, as text: shared by the terminal and the HTML page. */
export function whatIfTable(report: WhatIfReport): { header: string[]; rows: string[][] } {
  const header = ["policy", "peak stacks", "peak VMAs", "peak at", "mapped at end", `aborts at ${report.maxMapCount}?`, "smallest safe max_map_count", "global-lock acquisitions"];
  const rows = report.rows.map((r) => [
    r.label,
    String(r.peakStacks),
    String(r.peakVmas),
    r.peakLine === 0 ? "-" : where(r.peakLine, r.peakSeconds),
    String(r.mappedAtEnd),
    r.abort === null ? "no" : `yes, ${where(r.abort.line, r.abort.seconds)}`,
    smallestSafeText(r),
    usesGlobalLock(r) ? String(r.globalLockAcquisitions) : "-",
  ]);
  return { header, rows };
}

/** The least limit, "none" when no max_map_count there is lets the run complete, or "unknown". */
function smallestSafeText(row: WhatIfRow): string {
  if (row.smallestSafeMaxMapCount !== null) return String(row.smallestSafeMaxMapCount);
  return row.noSafeMaxMapCount === true ? "none up to 2147483647" : "unknown";
}

/** "batched: aborts at line 812 (3.250 s): failed to set up stack guard page", one per policy that aborts. */
export function abortLines(report: WhatIfReport): string[] {
  return report.rows.filter((r) => r.abort !== null).map((r) => `${r.label}: aborts at ${where(r.abort!.line, r.abort!.seconds)}: ${r.abort!.error}`);
}

/** "line 812" or "line 812 (3.250 s)". */
function where(line: number, seconds: number | null): string {
  return seconds === null ? `line ${line}` : `line ${line} (${seconds.toFixed(3)} s)`;
}

/** A policy this build does not know (a document from another build) shows its count as it is. */
function usesGlobalLock(row: WhatIfRow): boolean {
  return !isPolicyName(row.policy) || policyDefinition(row.policy).usesGlobalLock;
}
