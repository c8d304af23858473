/** What the commands share for --json and --report. */
import type { OptionSpec } from "./args.js";
import type { ResultDocument } from "../report/document.js";
import { prepareReportPath } from "../report/write.js";
import { writeOutputText } from "../output-file.js";
import type { CommandResult, PendingOutput, PendingReport } from "./exit.js";

export const REPORT_OPTION: OptionSpec = { report: { type: "string" } };

export const REPORT_HELP_LINE = `  --report FILE.html     also write a self-contained HTML report (charts, parameters, machine),
                         after the results are printed; FILE must be a regular file or a new
                         path (a symlink is written through; missing folders are made), never a
                         file the command reads`;

/**
 * The checked absolute --report path, or undefined without the flag; checked
 * before the run starts. `inputs`: files the run reads, which it may not replace.
 */
export function reportPathFlag(value: unknown, inputs: readonly string[] = []): string | undefined {
  if (value === undefined) return undefined;
  const path = prepareReportPath(value, "--report", inputs);
  inputsOfReport.set(path, inputs);
  return path;
}

/** The inputs each checked --report path may not be: checked again when the page is written, after the run. */
const inputsOfReport = new Map<string, readonly string[]>();

/**
 * Whether a long read (whatif, import) shows its progress on stderr: only
 * for a person at a terminal, never with --json (a program reads that).
 */
export function showsProgress(json: boolean): boolean {
  return !json && process.stderr.isTTY === true;
}

/**
 * What goes on stdout and the report to write after it: the JSON document
 * with --json (nothing else: the report's path is not printed there), else
 * the text, with "report: PATH" once the page is written. An interrupted
 * run's document (and so its page) carries `interrupted: true`.
 */
export function commandOutput(
  doc: ResultDocument,
  text: () => string,
  json: boolean,
  reportPath: string | undefined,
  signal?: AbortSignal,
): Pick<CommandResult, "stdout" | "report"> {
  const document: ResultDocument = signal?.aborted ? { ...doc, interrupted: true } : doc;
  const stdout = json ? JSON.stringify(document) : text();
  if (reportPath === undefined) return { stdout };
  return { stdout, report: { path: reportPath, render: async () => (await import("../report/html.js")).renderReportHtml(document), announce: !json } };
}

/**
 * Writes a report once the results are out; returns null when written (and
 * announced on `out` unless --json), else the one line saying why not.
 */
export async function writePendingReport(report: PendingReport, out: Announcer): Promise<string | null> {
  const file = { path: report.path, flag: "--report", inputs: inputsOfReport.get(report.path) ?? [], text: report.render };
  return writeAfterResults(file, "the report", report.announce ? `report: ${report.path}` : null, out);
}

/** Writes each output once the results are out; returns null when all are written, else the one line saying which was not and why. */
export async function writePendingOutputs(outputs: readonly PendingOutput[], out: Announcer): Promise<string | null> {
  for (const o of outputs) {
    const failure = await writeAfterResults(o, o.flag, o.announce ? `wrote ${o.path}` : null, out);
    if (failure !== null) return failure;
  }
  return null;
}

type Announcer = { write(text: string): unknown };

/** One file written after the results by the one output rule; a failure is the line saying so, never a lost result. */
async function writeAfterResults(
  file: { path: string; flag: string; inputs: readonly string[]; text: () => string | Promise<string> },
  what: string,
  announce: string | null,
  out: Announcer,
): Promise<string | null> {
  try {
    await writeOutputText(file.path, { flag: file.flag, value: file.path, inputs: file.inputs }, await file.text());
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return `the results are printed but ${what} was not written: ${reason}`;
  }
  if (announce !== null) out.write(`${announce}\n`);
  return null;
}
