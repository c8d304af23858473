/**
 * The report page for a value from outside (the library's renderReport, a
 * file `coropool report` read): checked first, so anything but a complete
 * result document is one InputError line, never a TypeError from deep in
 * the drawing.
 */
import { describeThrown } from "../message-text.js";
import { renderReportHtml } from "./html.js";
import { checkResultDocument, incompleteResult } from "./read.js";

/**
 * The HTML page of `value`, a result document of this schemaVersion (a
 * command's --json, what run() or whatIf() returns); else an InputError
 * naming what is wrong and what is allowed. `source` starts the message:
 * the caller's name for the value (a file's path; the function's name).
 */
export function renderResultDocument(value: unknown, source = "renderReport"): string {
  const doc = checkResultDocument(value, source);
  try {
    return renderReportHtml(doc);
  } catch (err) {
    // The schema cannot say everything (e.g. that threadNames and perThread agree); a document it lets through may still not draw.
    throw incompleteResult(source, doc.command, ` (${describeThrown(err)})`);
  }
}
