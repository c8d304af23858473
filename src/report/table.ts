/**
 * A report's table as data: its header, its rows and the notes under it,
 * built once from a result and then laid out as terminal text (tableText)
 * or as HTML (tableHtml in html-parts.ts), so the terminal and the page say
 * the same thing.
 */
import { formatTable } from "../text-table.js";

export type TableCell = string | number;

export interface Table {
  /** The page's name for it (its data-table), what tests and readers find it by. */
  kind: string;
  header: string[];
  rows: TableCell[][];
  /**
   * Lines under the table: what a cell can only hint at (an abort's whole
   * message, a dead thread, a coroutine that threw). A note may hold several
   * lines (a child's last words); the HTML keeps its line breaks.
   */
  notes: string[];
}

/** The table as the terminal prints it: right-aligned columns, then its notes. */
export function tableText(table: Table): string {
  return [formatTable(table.header, table.rows), ...table.notes].join("\n");
}
