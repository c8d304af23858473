/**
 * Where a report goes (--report, report -o): checked before a run starts (a
 * run can take minutes; finding out afterwards that the path is bad would
 * waste it), and written atomically, by the one rule every output of
 * coropool follows (../output-file.ts): only a regular file is created or
 * replaced, a symlink is written through, missing folders are made, an input
 * is never overwritten, and no temporary file is left behind.
 */
import { checkOutputPath, OUTPUT_WRITE_FAILED, writeOutputText } from "../output-file.js";

/** The code of a report that could not be written after the run (the CLI's exit 6, not bad input). */
export const REPORT_WRITE_FAILED = OUTPUT_WRITE_FAILED;

/**
 * The absolute path for --report (or report -o), checked now; nothing is
 * created until the page is written. A bad path (empty, a folder, not a
 * regular file, under a file, not writable, one of `inputs`) is an input
 * error with one line naming the path and the reason.
 */
export function prepareReportPath(value: unknown, flag = "--report", inputs: readonly string[] = []): string {
  return checkOutputPath(value, flag, inputs);
}

/**
 * Writes `text` to `path` so that the file holds either its old content or
 * all of `text`, never part; through a symlink, the file it names. Checked
 * again here, `inputs` too.
 */
export async function writeFileAtomic(path: string, text: string, flag = "--report", inputs: readonly string[] = []): Promise<void> {
  await writeOutputText(path, { flag, value: path, inputs }, text);
}
