/** The pieces every report page is built of: sections, paragraphs, tables. */
import { escapeHtml } from "./html-escape.js";
import type { Table, TableCell } from "./table.js";

/** A page section; `id` is its data-section, what tests and readers find it by. */
export function section(id: string, heading: string, content: string): string {
  return `<section data-section="${escapeHtml(id)}"><h2>${escapeHtml(heading)}</h2>${content}</section>\n`;
}

/** A table; cells that are numbers are right-aligned. */
export function htmlTable(header: string[], rows: TableCell[][], kind: string, numbersRight = true): string {
  const head = header.every((h) => h === "") ? "" : `<tr>${header.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr>`;
  const body = rows
    .map((r) => `<tr>${r.map(String).map((cell, i) => `<td${numbersRight && i > 0 && /^[-+]?[\d.,]+%?$/.test(cell) ? ' class="num"' : ""}>${escapeHtml(cell)}</td>`).join("")}</tr>`)
    .join("");
  return `<table data-table="${escapeHtml(kind)}"><thead>${head}</thead><tbody>${body}</tbody></table>`;
}

/** A report's table (the terminal's rows and notes) on the page: the table, then its notes as a list. */
export function tableHtml(table: Table): string {
  const notes = table.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join("");
  return htmlTable(table.header, table.rows, table.kind) + (notes === "" ? "" : `<ul class="notes" data-notes="${escapeHtml(table.kind)}">${notes}</ul>`);
}

export function paragraph(text: string): string {
  return text === "" ? "" : `<p>${escapeHtml(text)}</p>`;
}
