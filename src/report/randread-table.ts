/**
 * randread's two tables, for the terminal and the page alike: IOPS per block
 * size and iodepth, one column per policy (the seed's RW BLKSIZE IODEPTH OLD
 * NEW CHANGE when the policies are legacy and one newer pool), and the
 * completion latency percentiles. A cell whose run aborted or lost a thread
 * says so in the table and on a note of its own under it; a cell in which no
 * request completed says so instead of percentiles.
 */
import type { RandreadReport } from "../experiments/randread.js";
import { describeOutcome } from "../runtime/result.js";
import { formatBlockSize, randreadCases } from "../scenarios/randread/plan.js";
import type { Table, TableCell } from "./table.js";

type Cell = RandreadReport["cells"][number];

export interface RandreadTables {
  iops: Table;
  latency: Table;
  /** What OLD and NEW stand for, when the IOPS table is the seed's; else "". */
  legend: string;
}

export function randreadTables(report: RandreadReport): RandreadTables {
  const { scenario, policies } = report;
  // The seed's OLD/NEW table: legacy against one newer pool (batched, as the seed's, or elastic).
  const seedTable = policies.length === 2 && policies[0] === "legacy";
  const iops: Table = {
    kind: "iops",
    header: seedTable ? ["RW", "BLKSIZE", "IODEPTH", "OLD", "NEW", "CHANGE"] : ["RW", "BLKSIZE", "IODEPTH", ...policies.map((p) => p.toUpperCase())],
    rows: [],
    notes: [],
  };
  const latency: Table = { kind: "latency", header: ["BLKSIZE", "IODEPTH", ...policies.flatMap((p) => [`${p} p50`, "p90", "p99", "p99.9"])], rows: [], notes: [] };
  for (const c of randreadCases(scenario)) {
    // A cell an interrupted run never reached is missing.
    const cells = policies.map((p) => report.cells.find((x) => x.policy === p && x.blockSize === c.blockSize && x.iodepth === c.iodepth));
    if (cells.every((x) => x === undefined)) continue;
    const blockSize = formatBlockSize(c.blockSize);
    const counts = cells.map((x) => (x === undefined ? 0 : Math.round(x.figures.iops)));
    const row: TableCell[] = ["randread", blockSize, c.iodepth, ...cells.map((x, i) => iopsCell(x, counts[i]!))];
    if (seedTable) row.push(cells.every((x) => x !== undefined && cellEnding(x) === null) ? formatChange(counts[0]!, counts[1]!) : "n/a");
    iops.rows.push(row);
    latency.rows.push([blockSize, c.iodepth, ...cells.flatMap(latencyCells)]);
    for (const x of cells) {
      const ending = x === undefined ? null : cellEnding(x);
      if (ending !== null) iops.notes.push(`${x!.policy} ${blockSize} iodepth ${c.iodepth}: ${ending}`);
    }
  }
  const legend = seedTable ? `OLD = legacy pool, NEW = ${policies[1]} pool (coropool's own runs, not the seed's figures)` : "";
  return { iops, latency, legend };
}

/** How a cell's run ended when not as a measurement: its abort, its dead threads, or nothing completed; null when it measured. */
function cellEnding(x: Cell): string | null {
  if (x.run.abort) return `ABORTED: ${x.run.abort.message} (T${x.run.abort.thread}, VMAs ${x.run.abort.vmas} of ${x.run.vmas.limit})`;
  if (x.run.interrupted) return "INTERRUPTED before the cell finished";
  if (x.run.deadThreads.length > 0) return describeOutcome(x.run);
  return x.figures.completed === 0 ? "no request completed" : null;
}

function iopsCell(x: Cell | undefined, iops: number): TableCell {
  if (x === undefined) return "-";
  if (x.run.abort) return `${iops} (aborted)`;
  if (x.run.interrupted) return `${iops} (interrupted)`;
  if (x.run.deadThreads.length > 0) return `${iops} (failed)`;
  return iops;
}

/** p50 to p99.9 in us; a cell where nothing completed says so once, in place of the four. */
function latencyCells(x: Cell | undefined): string[] {
  if (x === undefined) return ["-", "-", "-", "-"];
  if (x.figures.completed === 0) return ["none completed", "-", "-", "-"];
  const { p50, p90, p99, p999 } = x.figures.latencyUs;
  return [p50, p90, p99, p999].map((us) => us.toFixed(1));
}

/** "+3.3%" as the seed's table writes it. */
export function formatChange(old: number, now: number): string {
  if (old === 0) return "n/a";
  const pct = ((now - old) / old) * 100;
  return `${pct >= 0 ? "+" : ""}${pct.toFixed(1)}%`;
}
