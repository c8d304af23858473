/**
 * The summary table of each experiment that runs policies side by side
 * (stress, imbalance, burst-idle, run, and stress --backend kernel): one
 * column per policy, the figures of summary-rows.ts, and under it a line for
 * each abort, dead thread, failed check and coroutine that threw. The
 * terminal (text.ts) and the page (html.ts) both show these tables.
 */
import type { BurstIdleReport } from "../experiments/burst-idle.js";
import type { CustomReport } from "../experiments/custom.js";
import type { ImbalanceReport } from "../experiments/imbalance.js";
import { describeChildOutcome, type RealAbortReport } from "../experiments/real-abort.js";
import type { StressReport } from "../experiments/stress.js";
import type { RunResult } from "../runtime/result.js";
import type { CustomPartResult } from "../scenarios/custom/part.js";
import { burstIdleSummaryRows, customSummaryRows, flatRows, imbalanceSummaryRows, stressSummaryRows, troubleLines, type SummaryRow } from "./summary-rows.js";
import type { Table } from "./table.js";

export function stressTable(report: StressReport): Table {
  return summaryTable(report.runs, stressSummaryRows(report.runs, report.threadNames), report.threadNames);
}

export function imbalanceTable(report: ImbalanceReport): Table {
  return summaryTable(report.runs, imbalanceSummaryRows(report.runs), imbalanceThreadNames(report));
}

export function burstIdleTable(report: BurstIdleReport): Table {
  return summaryTable(report.runs, burstIdleSummaryRows(report.runs), burstIdleThreadNames(report));
}

/** A custom workload's table; its notes also name each coroutine that threw. */
export function customTable(report: CustomReport): Table {
  return summaryTable(report.runs, customSummaryRows(report.runs), customThreadNames(report), report.runs.flatMap(thrownLines));
}

/** stress --backend kernel: how each policy's child process ended at the host's real limit, and the last words of one that died. */
export function childrenTable(report: RealAbortReport): Table {
  return {
    kind: "children",
    header: ["policy", "how the child ended", "counter's last VMAs", "real VMAs at death", "time"],
    rows: report.children.map((c) => [c.policy, describeChildOutcome(c), c.lastVmas ?? "-", c.realVmasAtDeath ?? "-", `${(c.durationMs / 1000).toFixed(1)} s`]),
    notes: report.children.flatMap((c) =>
      c.outcome.kind === "died" ? [[`${c.policy}: V8's / Node's last words:`, ...c.outcome.lastWords.map((l) => `  ${l}`)].join("\n")] : [],
    ),
  };
}

/** The imbalance's threads as its pictures and notes name them: the bursting one marked. */
export function imbalanceThreadNames(report: ImbalanceReport): string[] {
  const { threads, burstThread } = report.scenario;
  return Array.from({ length: threads }, (_, t) => (t === burstThread ? `T${t} (bursts)` : `T${t}`));
}

export function burstIdleThreadNames(report: BurstIdleReport): string[] {
  const { threads, burstThreads } = report.scenario;
  return Array.from({ length: threads }, (_, t) => (t < burstThreads ? `T${t} (bursts)` : `T${t}`));
}

export function customThreadNames(report: CustomReport): string[] {
  return Array.from({ length: report.scenario.threads }, (_, t) => `T${t}`);
}

/** One column per run; notes: each abort, then `extraNotes`, then what did not end cleanly. */
function summaryTable(runs: RunResult[], rows: SummaryRow[], threadNames: string[], extraNotes: string[] = []): Table {
  return {
    kind: "summary",
    header: ["", ...runs.map((r) => r.policy)],
    rows: flatRows(rows),
    notes: [...runs.flatMap((r) => abortLine(r, threadNames) ?? []), ...extraNotes, ...troubleLines(runs)],
  };
}

/** Where and how a run aborted, with what was mapped at that moment; null when it did not. */
function abortLine(r: RunResult, threadNames: string[]): string | null {
  const a = r.abort;
  if (!a) return null;
  const thread = threadNames[a.thread] ?? `T${a.thread}`;
  return (
    `${r.policy}: ${thread} aborted: ${a.message} (VMAs ${a.vmas} of ${r.vmas.limit}; ` +
    `${a.stacksCreated - a.stacksFreed} stacks: ${a.live} live, ${a.pooledGlobal} in the shared pool, per thread ${a.pooledThreads.join("/")} pooled)`
  );
}

/** "legacy: T1 coroutine 7 threw: …" for each coroutine of a custom workload whose body threw. */
function thrownLines(r: RunResult): string[] {
  return (r.parts as (CustomPartResult | null)[]).flatMap((p, t) => p?.failures.map((f) => `${r.policy}: T${t} coroutine ${f.index} threw: ${f.message}`) ?? []);
}
