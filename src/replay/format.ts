import { policyDefinition } from "../pools/registry.js";
import { formatTable } from "../text-table.js";
import type { ReplayOutcome } from "./replay.js";

/** The human-readable summary: one column per policy, side by side. */
export function formatReplaySummary(source: string, outcomes: ReplayOutcome[]): string {
  const col = (f: (o: ReplayOutcome) => string | number): (string | number)[] => outcomes.map(f);
  const threads = outcomes[0]?.result.pooled.threads.length ?? 0;
  const rows: (string | number)[][] = [
    ["events replayed", ...col((o) => o.result.events)],
    ["stacks created", ...col((o) => o.result.stacksCreated)],
    ["stacks freed", ...col((o) => o.result.stacksFreed)],
    ["live coroutines", ...col((o) => o.result.live)],
    ["pooled, global", ...col((o) => o.result.pooled.global)],
    ...Array.from({ length: threads }, (_, t) => [`pooled, T${t}`, ...col((o) => o.result.pooled.threads[t]!)]),
    ["leaked at thread exit", ...col((o) => o.leakedStacks)],
    ["VMAs baseline", ...col((o) => o.result.vmas.baseline)],
    ["VMAs final", ...col((o) => o.result.vmas.final)],
    ["VMAs peak", ...col((o) => o.result.vmas.peak)],
    ["VMA limit", ...col((o) => o.result.vmas.limit)],
    ["global-lock acquisitions", ...col((o) => (policyDefinition(o.result.policy).usesGlobalLock ? o.globalLockAcquisitions : "-"))],
    ["outcome", ...col((o) => (o.result.failure ? `abort at line ${o.result.failure.line}` : "completed"))],
  ];
  const table = formatTable(["replay of " + source, ...outcomes.map((o) => o.result.policy)], rows);
  const aborts = outcomes
    .filter((o) => o.result.failure)
    .map((o) => `${o.result.policy}: line ${o.result.failure!.line}: ${o.result.failure!.error}`);
  return [table, ...aborts].join("\n");
}
