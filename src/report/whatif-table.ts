/**
 * The what-if's table, for the terminal and the page alike: one row per
 * policy, and a note under it for each policy that aborts (where, and QEMU's
 * message).
 */
import { isPolicyName, policyDefinition } from "../pools/index.js";
import type { WhatIfRow } from "../replay/whatif.js";
import { LARGEST_MAX_MAP_COUNT } from "../vma/limits.js";
import type { Table } from "./table.js";
import type { WhatIfReport } from "./whatif-document.js";

export function whatIfTable(report: WhatIfReport): Table {
  return {
    kind: "whatif",
    header: ["policy", "peak stacks", "peak VMAs", "peak at", "mapped at end", `aborts at ${report.maxMapCount}?`, "smallest safe max_map_count", "global-lock acquisitions"],
    rows: report.rows.map((r) => [
      r.label,
      String(r.peakStacks),
      String(r.peakVmas),
      r.peakLine === 0 ? "-" : where(r.peakLine, r.peakSeconds),
      String(r.mappedAtEnd),
      r.abort === null ? "no" : `yes, ${where(r.abort.line, r.abort.seconds)}`,
      smallestSafeText(r),
      usesGlobalLock(r) ? String(r.globalLockAcquisitions) : "-",
    ]),
    notes: report.rows.filter((r) => r.abort !== null).map((r) => `${r.label}: aborts at ${where(r.abort!.line, r.abort!.seconds)}: ${r.abort!.error}`),
  };
}

/** The least limit, "none" when no max_map_count there is lets the run complete, or "unknown". */
export function smallestSafeText(row: WhatIfRow): string {
  if (row.smallestSafeMaxMapCount !== null) return String(row.smallestSafeMaxMapCount);
  return row.noSafeMaxMapCount === true ? `none up to ${LARGEST_MAX_MAP_COUNT}` : "unknown";
}

/** "line 812" or "line 812 (3.250 s)". */
function where(line: number, seconds: number | null): string {
  return seconds === null ? `line ${line}` : `line ${line} (${seconds.toFixed(3)} s)`;
}

/** A policy this build does not know (a document from another build) shows its count as it is. */
function usesGlobalLock(row: WhatIfRow): boolean {
  return !isPolicyName(row.policy) || policyDefinition(row.policy).usesGlobalLock;
}
