import { policyDefinition } from "../pools/index.js";
import { describeOutcome, type RunResult } from "../runtime/result.js";
import type { BurstIdleSummary } from "../scenarios/burst-idle/plan.js";
import type { ImbalanceSummary } from "../scenarios/imbalance/plan.js";
import { customTotal } from "../scenarios/custom/summary.js";

/**
 * The rows of a run's summary table, one column per policy; run-tables.ts
 * makes them the table the terminal (text.ts) and the page (html.ts) show.
 */
export type SummaryRow = [label: string, cells: (string | number)[]];

/** Shown for a figure a policy does not have (legacy and none have no lock). */
export const NOT_APPLICABLE = "-";

/** A figure of the global lock and its batches, for the policies that have them. */
function lockedOnly(r: RunResult, value: (r: RunResult) => string | number): string | number {
  return policyDefinition(r.policy).usesGlobalLock ? value(r) : NOT_APPLICABLE;
}

/** The cap the run's global pool obeyed (batched's hard cap; elastic's own), for the policies that have one. */
export function globalPoolCap(r: RunResult): string | number {
  const cap = policyDefinition(r.policy).globalPoolCap;
  return cap === null ? NOT_APPLICABLE : cap(r.pool.hardMaxSize, r.vmas.limit, r.threads);
}

function backToBaseline(r: RunResult): string {
  return r.vmas.backToBaseline ? "yes" : `no (${r.vmas.final})`;
}

export function stressSummaryRows(runs: RunResult[], threadNames: string[]): SummaryRow[] {
  return [
    ["outcome", runs.map(describeOutcome)],
    ["pool max size", runs.map((r) => r.pool.maxSize)],
    ["batched hard cap", runs.map(globalPoolCap)],
    ["VMA limit", runs.map((r) => r.vmas.limit)],
    ["peak VMAs", runs.map((r) => r.vmas.peak)],
    ["stacks created", runs.map((r) => r.stacks.created)],
    ["leaked at thread exit", runs.map((r) => r.stacks.leaked)],
    ["global-lock acquisitions", runs.map((r) => lockedOnly(r, (b) => b.lock.acquisitions))],
    ["VMAs back to baseline", runs.map(backToBaseline)],
    ["duration (ms)", runs.map((r) => r.durationMs.toFixed(0))],
    ...threadNames.map((name, t): SummaryRow => [
      `${name}: created / peak pooled`,
      runs.map((r) => `${r.perThread[t]!.stacksCreated} / ${r.perThread[t]!.peakPooled}`),
    ]),
  ];
}

export function imbalanceSummaryRows(runs: (RunResult & { imbalance: ImbalanceSummary })[]): SummaryRow[] {
  const sum = (r: RunResult, key: "refills" | "handOvers") => r.perThread.reduce((a, t) => a + t[key], 0);
  return [
    ["stranded stacks (quiet thread's pool)", runs.map((r) => r.imbalance.strandedStacks)],
    ["new stacks mapped meanwhile", runs.map((r) => r.imbalance.newStacksWhileStranded)],
    ["stacks created in all", runs.map((r) => r.stacks.created)],
    ["peak VMAs", runs.map((r) => r.vmas.peak)],
    ["pooled per thread at end", runs.map((r) => r.imbalance.pooledAtEnd.join("/"))],
    ["max/mean of pools", runs.map((r) => r.imbalance.maxOverMean.toFixed(2))],
    ["Gini of pools", runs.map((r) => r.imbalance.gini.toFixed(3))],
    ["global-lock acquisitions", runs.map((r) => lockedOnly(r, (b) => b.lock.acquisitions))],
    ["batch refills / hand-overs", runs.map((r) => lockedOnly(r, (b) => `${sum(b, "refills")} / ${sum(b, "handOvers")}`))],
    ["outcome", runs.map(describeOutcome)],
  ];
}

export function burstIdleSummaryRows(runs: (RunResult & { burstIdle: BurstIdleSummary })[]): SummaryRow[] {
  return [
    ["stacks mapped after the bursts", runs.map((r) => r.burstIdle.mappedAfterBursts)],
    ["stacks mapped after the quiet period", runs.map((r) => r.burstIdle.mappedAfterQuiet)],
    ["stacks mapped at the end", runs.map((r) => r.burstIdle.mappedAtEnd)],
    ["(2 x threads + 1) batches", runs.map((r) => r.burstIdle.workingSetBound)],
    ["new stacks mapped by the load", runs.map((r) => r.burstIdle.newStacksInLoad)],
    ["stacks created in all", runs.map((r) => r.stacks.created)],
    ["peak VMAs", runs.map((r) => r.vmas.peak)],
    ["global-lock acquisitions", runs.map((r) => lockedOnly(r, (b) => b.lock.acquisitions))],
    ["outcome", runs.map(describeOutcome)],
  ];
}

export function customSummaryRows(runs: RunResult[]): SummaryRow[] {
  return [
    ["coroutines", runs.map((r) => customTotal(r, "coroutines"))],
    ["completed", runs.map((r) => customTotal(r, "completed"))],
    ["failed (body threw)", runs.map((r) => customTotal(r, "failed"))],
    ["not started (aborted first)", runs.map((r) => customTotal(r, "notStarted"))],
    ["stacks created", runs.map((r) => r.stacks.created)],
    ["peak VMAs", runs.map((r) => r.vmas.peak)],
    ["VMAs back to baseline", runs.map(backToBaseline)],
    ["outcome", runs.map(describeOutcome)],
  ];
}

/**
 * One line per worker that died and per failed check: what the runtime found
 * and reclaimed of the dead thread's stacks, and any invariant violation or
 * /proc/self/maps mismatch, so a run that did not end cleanly says so.
 */
export function troubleLines(runs: RunResult[]): string[] {
  return runs.flatMap((r) => [
    ...r.deadThreads.map(
      (d) =>
        `${r.policy}: T${d.thread} died (${d.reason}); reclaimed ${d.reclaimedLive} stacks of its live coroutines and ${d.reclaimedFromPool} from its pool` +
        (r.reclaimedInFlight > 0 ? `, and ${r.reclaimedInFlight} of a batch in flight` : "") +
        (r.lock.recoveries > 0 ? `; the global lock was taken over from it ${r.lock.recoveries} time(s)` : ""),
    ),
    ...r.phaseChecks.flatMap((c) => c.violations.map((v) => `${r.policy}: INVARIANT VIOLATED ${c.point}: ${v}`)),
    ...r.crossCheckMismatches.map((m) => `${r.policy}: /proc/self/maps MISMATCH ${m}`),
  ]);
}

/** Rows as the terminal table wants them: the label, then the cells. */
export function flatRows(rows: SummaryRow[]): (string | number)[][] {
  return rows.map(([label, cells]) => [label, ...cells]);
}
