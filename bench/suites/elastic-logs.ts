/**
 * The real QEMU logs (test/fixtures/qemu-real/, the shared samples) through
 * the log importer, replayed under every configuration of the elastic suite:
 * the peak stacks and the stacks mapped at the end per policy, beside QEMU's
 * own end count and sampled peak from cases.tsv. The replay is deterministic
 * (one pass, every policy in lockstep), so each figure is one run's.
 * Elastic's decay runs on the log's times where the log has them
 * (`-msg timestamp=on`), else on its events. All five logs replay in about
 * a second, so quick mode replays them all too.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { projectRoot } from "../../src/project-root.js";
import type { ReplayOutcome } from "../../src/replay/replay.js";
import { replayLog, type PolicySpec } from "../../src/replay/replay-log.js";
import { markdownTable } from "../measure.js";

const SAMPLES = join(projectRoot(), "test", "fixtures", "qemu-real");

/** A VMA limit no policy reaches on these logs (the largest holds ~1,300 stacks): every replay runs to the end. */
const LIMITS = { maxMapCount: 65530, baselineVmas: 1000 };

/** One row of cases.tsv: a log and what QEMU itself had mapped. */
interface RealLog {
  file: string;
  qemu: string;
  poolIncrease: number;
  stacksAtEnd: number;
  sampledPeak: number;
}

function realLogs(): RealLog[] {
  const [, ...rows] = readFileSync(join(SAMPLES, "cases.tsv"), "utf8").trim().split("\n");
  return rows.map((row) => {
    const [file, qemu, , inc, end, peak] = row.split("\t") as [string, string, string, string, string, string];
    return { file, qemu, poolIncrease: Number(inc), stacksAtEnd: Number(end), sampledPeak: Number(peak) };
  });
}

/** Live, pooled globally and pooled per thread: what is still mapped when the log ends. */
function mappedAtEnd(outcome: ReplayOutcome): number {
  const { live, pooled } = outcome.result;
  return live + pooled.global + pooled.threads.reduce((a, b) => a + b, 0);
}

/** "peak / end", or where the replay aborted. */
function cell(outcome: ReplayOutcome): string {
  const failure = outcome.result.failure;
  if (failure !== null) return `aborts at line ${failure.line}`;
  return `${outcome.peak.stacks} / ${mappedAtEnd(outcome)}`;
}

export interface LogTable {
  markdown: string;
  /** Replays that aborted under the limit, as "file: label". None is expected. */
  aborted: string[];
}

/** Replays each real log under every configuration. */
export async function runRealLogTable(configs: readonly (PolicySpec & { label: string })[]): Promise<LogTable> {
  const rows: string[][] = [];
  const created: string[][] = [];
  const aborted: string[] = [];
  for (const log of realLogs()) {
    const { input, outcomes } = await replayLog({ path: join(SAMPLES, log.file) }, { ...LIMITS, policies: configs, poolIncrease: log.poolIncrease });
    outcomes.forEach((o, i) => o.result.failure !== null && aborted.push(`${log.file}: ${configs[i]!.label}`));
    const clock = input.hasTimes ? "times" : "events";
    rows.push([log.file, log.qemu, `${log.poolIncrease}`, clock, `${log.sampledPeak} / ${log.stacksAtEnd}`, ...outcomes.map(cell)]);
    created.push([log.file, ...outcomes.map((o) => `${o.result.stacksCreated}`)]);
  }
  const markdown = [
    `Real QEMU logs (test/fixtures/qemu-real/, the shared samples) through the log importer, max_map_count ${LIMITS.maxMapCount}, baseline ${LIMITS.baselineVmas} VMAs; each cell is peak stacks / stacks mapped at the end (live + pooled globally + pooled per thread). One deterministic replay per log, every policy in lockstep; "clock" is what drives elastic's decay: the log's times (\`-msg timestamp=on\`) or its events. QEMU's column is its own sampled peak (every 50 ms: a lower bound) / its stacks at the end.`,
    "",
    markdownTable(["log", "QEMU", "pool increase", "clock", "QEMU measured", ...configs.map((c) => c.label)], rows),
    "",
    "Stacks mapped over the whole log (created; a stack given back and needed again is mapped again):",
    "",
    markdownTable(["log", ...configs.map((c) => c.label)], created),
    "",
    aborted.length === 0 ? `No replay aborted at ${LIMITS.maxMapCount}.` : `Aborted at ${LIMITS.maxMapCount}: ${aborted.join("; ")}.`,
  ].join("\n");
  return { markdown, aborted };
}
