/** What the commands share for --json and --report. */
import type { OptionSpec } from "./args.js";
import type { ResultDocument } from "../report/document.js";
import { renderReportHtml } from "../report/html.js";
import { prepareReportPath, writeFileAtomic } from "../report/write.js";

export const REPORT_OPTION: OptionSpec = { report: { type: "string" } };

export const REPORT_HELP_LINE = "  --report FILE.html     also write a self-contained HTML report (charts, parameters, machine)";

/** The checked absolute --report path, or undefined without the flag; checked before the run starts. */
export function reportPathFlag(value: unknown): string | undefined {
  return value === undefined ? undefined : prepareReportPath(value);
}

/**
 * Writes the report (when asked) and returns what goes on stdout: the JSON
 * document with --json (nothing else: the report's path is not printed
 * there), else the text with the report's path on the last line.
 */
export function commandOutput(doc: ResultDocument, text: () => string, json: boolean, reportPath: string | undefined): string {
  if (reportPath !== undefined) writeFileAtomic(reportPath, renderReportHtml(doc));
  if (json) return JSON.stringify(doc);
  return reportPath === undefined ? text() : `${text()}\nreport: ${reportPath}`;
}
