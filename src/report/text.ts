/**
 * The terminal text of each experiment's report: what a command prints
 * without --json. The figures are the summary rows the HTML report shows
 * too (summary-rows.ts); this file lays them out as plain-text tables.
 */
import type { BurstIdleReport } from "../experiments/burst-idle.js";
import type { CustomReport } from "../experiments/custom.js";
import type { ImbalanceReport } from "../experiments/imbalance.js";
import type { RandreadReport } from "../experiments/randread.js";
import { describeChildOutcome, type RealAbortReport } from "../experiments/real-abort.js";
import type { ScenarioReport } from "../experiments/run-scenario.js";
import type { StressReport } from "../experiments/stress.js";
import type { CustomPartResult } from "../scenarios/custom/part.js";
import { formatBlockSize, randreadCases } from "../scenarios/randread/plan.js";
import { describeOutcome } from "../runtime/result.js";
import { formatTable } from "../text-table.js";
import type { DemoDocument } from "./document.js";
import { burstIdleSummaryRows, customSummaryRows, flatRows, imbalanceSummaryRows, stressSummaryRows, troubleLines } from "./summary-rows.js";

export function formatStressReport(report: StressReport): string {
  const { runs, threadNames, scenario } = report;
  const devices = scenario.guest.devices.map((d) => `${d.name} ${d.numQueues}x${d.queueSize}`).join(", ");
  const header = [
    `vma-exhaustion: ${scenario.guest.iothreads} IOThreads${scenario.guest.mainLoop ? " + main loop" : ""}, devices ${devices}, ${scenario.rounds} rounds, seed ${scenario.seed}`,
  ];
  const rows = flatRows(stressSummaryRows(runs, threadNames));
  const lines = [...header, formatTable(["", ...runs.map((r) => r.policy)], rows)];
  for (const r of runs) {
    if (!r.abort) continue;
    const a = r.abort;
    lines.push(
      `${r.policy}: ${threadNames[a.thread]} aborted: ${a.message} (VMAs ${a.vmas} of ${r.vmas.limit}; ${a.stacksCreated - a.stacksFreed} stacks: ${a.live} live, ${a.pooledGlobal} in the shared pool, per thread ${a.pooledThreads.join("/")} pooled)`,
    );
  }
  lines.push(...troubleLines(runs));
  return lines.join("\n");
}

export function formatRealAbortReport(report: RealAbortReport): string {
  const rows = report.children.map((c) => [c.policy, describeChildOutcome(c), c.lastVmas ?? "-", c.realVmasAtDeath ?? "-", `${(c.durationMs / 1000).toFixed(1)} s`]);
  const lines = [
    `vma-exhaustion with real stacks (mmap + mprotect, ${report.scenario.guest.iothreads} IOThreads${report.scenario.guest.mainLoop ? " + main loop" : ""}), each policy in its own child process at this host's real vm.max_map_count ${report.hostMaxMapCount}:`,
    formatTable(["policy", "how the child ended", "counter's last VMAs", "real VMAs at death", "time"], rows),
  ];
  for (const c of report.children) {
    if (c.outcome.kind === "died") lines.push(`${c.policy}: V8's / Node's last words:`, ...c.outcome.lastWords.map((l) => `  ${l}`));
  }
  return lines.join("\n");
}

export function formatImbalanceReport(report: ImbalanceReport): string {
  const { runs, scenario } = report;
  const rows = flatRows(imbalanceSummaryRows(runs));
  const header = `imbalance: ${scenario.threads} threads; T${scenario.burstThread} bursts ${scenario.burst} then goes quiet; the others run ${scenario.rounds} rounds of ${scenario.inFlight}`;
  return [header, formatTable(["", ...runs.map((r) => r.policy)], rows), ...troubleLines(runs)].join("\n");
}

export function formatBurstIdleReport(report: BurstIdleReport): string {
  const { runs, scenario } = report;
  const header =
    `burst-idle: ${scenario.threads} threads; T0-T${scenario.burstThreads - 1} burst ${scenario.bursts} x ${scenario.burst}, ` +
    `all quiet ${scenario.quietMs} ms, then the others run ${scenario.rounds} rounds of ${scenario.inFlight}`;
  return [header, formatTable(["", ...runs.map((r) => r.policy)], flatRows(burstIdleSummaryRows(runs))), ...troubleLines(runs)].join("\n");
}

/**
 * The seed's table (RW BLKSIZE IODEPTH OLD NEW CHANGE) when the policies are
 * legacy,batched; then latency percentiles. A cell whose run aborted or lost
 * a thread says so in the table and on a line of its own; a cell in which no
 * request completed says so instead of percentiles.
 */
export function formatRandreadReport(report: RandreadReport): string {
  const { scenario, policies } = report;
  // The seed's OLD/NEW table: legacy against one newer pool (batched, as the seed's, or elastic).
  const seedTable = policies.length === 2 && policies[0] === "legacy";
  const header = seedTable ? ["RW", "BLKSIZE", "IODEPTH", "OLD", "NEW", "CHANGE"] : ["RW", "BLKSIZE", "IODEPTH", ...policies.map((p) => p.toUpperCase())];
  const latencyHeader = ["BLKSIZE", "IODEPTH", ...policies.flatMap((p) => [`${p} p50`, "p90", "p99", "p99.9"])];
  const rows: (string | number)[][] = [];
  const latencyRows: (string | number)[][] = [];
  const notes: string[] = [];
  for (const c of randreadCases(scenario)) {
    // A cell an interrupted run never reached is missing.
    const cells = policies.map((p) => report.cells.find((x) => x.policy === p && x.blockSize === c.blockSize && x.iodepth === c.iodepth));
    if (cells.every((x) => x === undefined)) continue;
    const iops = cells.map((x) => (x === undefined ? 0 : Math.round(x.figures.iops)));
    const row: (string | number)[] = ["randread", formatBlockSize(c.blockSize), c.iodepth, ...cells.map((x, i) => iopsCell(x, iops[i]!))];
    if (seedTable) row.push(cells.every((x) => x !== undefined && cellEnding(x) === null) ? formatChange(iops[0]!, iops[1]!) : "n/a");
    rows.push(row);
    latencyRows.push([formatBlockSize(c.blockSize), c.iodepth, ...cells.flatMap(latencyCells)]);
    for (const x of cells) {
      const ending = x === undefined ? null : cellEnding(x);
      if (x !== undefined && ending !== null) notes.push(`${x.policy} ${formatBlockSize(c.blockSize)} iodepth ${c.iodepth}: ${ending}`);
    }
  }
  const device = `device model: ${scenario.device.latencyUs} us latency, ${scenario.device.bandwidthMBps} MB/s; ${scenario.threads} IOThread(s), ${scenario.durationMs} ms per cell`;
  const label = seedTable ? `OLD = legacy pool, NEW = ${policies[1]} pool (coropool's own runs, not the seed's figures)` : "";
  return [
    formatTable(header, rows),
    label,
    device,
    ...notes,
    "",
    "completion latency percentiles (us; HDR histogram, 3 significant digits):",
    formatTable(latencyHeader, latencyRows),
  ].filter((l) => l !== "").join("\n");
}

type Cell = RandreadReport["cells"][number];

/** How a cell's run ended when not as a measurement: its abort, its dead threads, or nothing completed; null when it measured. */
function cellEnding(x: Cell): string | null {
  if (x.run.abort) return `ABORTED: ${x.run.abort.message} (T${x.run.abort.thread}, VMAs ${x.run.abort.vmas} of ${x.run.vmas.limit})`;
  if (x.run.interrupted) return "INTERRUPTED before the cell finished";
  if (x.run.deadThreads.length > 0) return describeOutcome(x.run);
  return x.figures.completed === 0 ? "no request completed" : null;
}

function iopsCell(x: Cell | undefined, iops: number): string | number {
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

export function formatCustomReport(report: CustomReport): string {
  const { runs, scenario } = report;
  const rows = flatRows(customSummaryRows(runs));
  const lines = [`custom: ${scenario.module} on ${scenario.threads} thread(s)`, formatTable(["", ...runs.map((r) => r.policy)], rows)];
  for (const r of runs) {
    (r.parts as (CustomPartResult | null)[]).forEach((p, t) =>
      p?.failures.forEach((f) => lines.push(`${r.policy}: T${t} coroutine ${f.index} threw: ${f.message}`)));
  }
  lines.push(...troubleLines(runs));
  return lines.join("\n");
}

/** A scenario's report of any kind, as its own command prints it. */
export function formatScenarioReport(report: ScenarioReport): string {
  switch (report.command) {
    case "stress":
      return formatStressReport(report);
    case "imbalance":
      return formatImbalanceReport(report);
    case "randread":
      return formatRandreadReport(report);
    case "run":
      return formatCustomReport(report);
    case "burst-idle":
      return formatBurstIdleReport(report);
  }
}

/**
 * The demo's four parts under their headings. `limitSource` says where part
 * 1's limit came from; `picture` (VMAs over time) is drawn under part 1 when
 * not empty.
 */
export function formatDemo(doc: DemoDocument, limitSource: string, picture: string): string {
  return [
    `== 1. The seed's bug report at max_map_count ${doc.maxMapCount} (${limitSource})`,
    formatStressReport(doc.stress),
    ...(picture === "" ? [] : ["", picture]),
    "",
    "== 2. Imbalance",
    formatImbalanceReport(doc.imbalance),
    "",
    "== 3. randread, short cells (npm run bench -- randread for the full table)",
    formatRandreadReport(doc.randread),
    ...(doc.burstIdle
      ? ["", "== 4. Beyond 9.0: a burst, a quiet period, and what stays mapped (batched vs elastic)", formatBurstIdleReport(doc.burstIdle)]
      : []),
  ].join("\n");
}
