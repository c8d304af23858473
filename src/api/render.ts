/**
 * renderReport(): a result document (what run(), whatIf() or a command's
 * --json gives) as the self-contained HTML page `--report` writes. The
 * document is checked against the published schema first: anything else is
 * one InputError line, never a TypeError from inside the drawing.
 */
import type { ResultDocument } from "../report/document.js";
import { renderResultDocument } from "../report/render.js";

export function renderReport(document: ResultDocument): string {
  return renderResultDocument(document, "renderReport()");
}
