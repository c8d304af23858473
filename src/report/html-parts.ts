/** The pieces every report page is built of: sections, paragraphs, tables. */
import { escapeHtml } from "./html-escape.js";

/** A page section; `id` is its data-section, what tests and readers find it by. */
export function section(id: string, heading: string, content: string): string {
  return `<section data-section="${escapeHtml(id)}"><h2>${escapeHtml(heading)}</h2>${content}</section>\n`;
}

/** A table; cells that are numbers are right-aligned. */
export function htmlTable(header: string[], rows: string[][], kind: string, numbersRight = true): string {
  const head = header.every((h) => h === "") ? "" : `<tr>${header.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr>`;
  const body = rows
    .map((r) => `<tr>${r.map((cell, i) => `<td${numbersRight && i > 0 && /^[-+]?[\d.,]+%?$/.test(cell) ? ' class="num"' : ""}>${escapeHtml(cell)}</td>`).join("")}</tr>`)
    .join("");
  return `<table data-table="${escapeHtml(kind)}"><thead>${head}</thead><tbody>${body}</tbody></table>`;
}

export function paragraph(text: string): string {
  return text === "" ? "" : `<p>${escapeHtml(text)}</p>`;
}
