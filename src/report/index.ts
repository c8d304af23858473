/** Reports: the versioned JSON document, the HTML page drawn from it, and the terminal chart. */
export { SCHEMA_VERSION, toDocument, demoDocument, type ResultDocument, type WhatIfDocument } from "./document.js";
export { machineInfo, type MachineInfo } from "./machine.js";
export { renderReportHtml } from "./html.js";
export { renderResultDocument } from "./render.js";
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

