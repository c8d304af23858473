/** Reports: the versioned JSON document, the HTML page drawn from it, and the terminal chart. */
export { SCHEMA_VERSION, toDocument, demoDocument, type ResultDocument, type WhatIfDocument } from "./document.js";
export { machineInfo, type MachineInfo } from "./machine.js";
export { renderReportHtml } from "./html.js";
export { prepareReportPath, writeFileAtomic } from "./write.js";
export { readResultDocument, checkResultDocument } from "./read.js";
export { vmaChartText } from "./terminal-chart.js";
export { whatIfReport, someAbort, type WhatIfReport } from "./whatif-document.js";
export { formatWhatIf } from "./whatif-text.js";
export { describeLogInput } from "./log-input-text.js";
export {
  formatStressReport,
  formatRealAbortReport,
  formatImbalanceReport,
  formatRandreadReport,
  formatCustomReport,
  formatScenarioReport,
  formatDemo,
  formatChange,
} from "./text.js";

import type { ResultDocument } from "./document.js";
import { renderReportHtml } from "./html.js";
import { writeFileAtomic } from "./write.js";

/** Renders `doc` and writes it to `path` (already checked by prepareReportPath) atomically. */
export function writeHtmlReport(path: string, doc: ResultDocument, flag = "--report"): void {
  writeFileAtomic(path, renderReportHtml(doc), flag);
}
