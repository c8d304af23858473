/**
 * The what-if as the terminal shows it: the input, then one row per policy
 * and where each abort happens (the same table the HTML page shows).
 */
import { describeLogInput } from "./log-input-text.js";
import { tableText } from "./table.js";
import { whatIfNotes, type WhatIfReport } from "./whatif-document.js";
import { whatIfTable } from "./whatif-table.js";

export function formatWhatIf(report: WhatIfReport): string {
  return [
    ...describeLogInput(report.source, report.input),
    `limit asked about: max_map_count ${report.maxMapCount}, with ${report.baselineVmas} VMAs besides the stacks`,
    ...whatIfNotes(report),
    "",
    tableText(whatIfTable(report)),
  ].join("\n");
}
