import { accountingFailures, deadThreadLine, type RunResult } from "../runtime/result.js";

/** The exit statuses every command shares (README "Exit status" and every --help list them). */
export const EXIT = {
  OK: 0,
  /** A bug: an internal error, or a run whose stacks were not all accounted for (results printed). */
  INTERNAL: 1,
  BAD_INPUT: 2,
  VMA_ABORT: 3,
  /** Coroutine bodies of a custom workload threw (unless --allow-failures). */
  COROUTINES_FAILED: 4,
  /** A worker thread died, or a run was stopped at its time limit. */
  THREAD_DIED: 5,
  /** The results were printed but the --report page could not be written. */
  REPORT_FAILED: 6,
  /** Stopped by SIGINT (128 + 2) or SIGTERM (128 + 15); the results so far were printed. */
  INTERRUPTED_SIGINT: 130,
  INTERRUPTED_SIGTERM: 143,
} as const;

/** What the runs of a command must show for each status. */
export interface RunOutcomeFlags extends Pick<RunResult, "phaseChecks" | "crossCheckMismatches"> {
  completed: boolean;
  deadThreads: unknown[];
  timedOut: boolean;
}

/**
 * The status a set of runs earns: a run whose stacks were not all accounted
 * for (an invariant violated, a /proc/self/maps mismatch) is 1, a bug; else
 * a worker that died or a run that timed out is 5, else a VMA-exhaustion
 * abort is 3, else coroutine bodies that threw (`failedCoroutines` > 0, when
 * not allowed) are 4, else 0.
 */
export function exitCodeFor(runs: RunOutcomeFlags[], failedCoroutines = 0): number {
  if (runs.some((r) => accountingFailures(r).length > 0)) return EXIT.INTERNAL;
  if (runs.some((r) => r.deadThreads.length > 0 || r.timedOut)) return EXIT.THREAD_DIED;
  if (!runs.every((r) => r.completed)) return EXIT.VMA_ABORT;
  return failedCoroutines > 0 ? EXIT.COROUTINES_FAILED : EXIT.OK;
}

/**
 * The status a set of runs earns, and the one stderr line that goes with a
 * failed accounting (its first failure and how many more), a dead thread or
 * a timeout (naming the thread and the cause).
 */
export function runsVerdict(runs: RunResult[], failedCoroutines = 0): { exitCode: number; stderr?: string } {
  const exitCode = exitCodeFor(runs, failedCoroutines);
  const lines = [...runs.map(accountingLine), ...runs.map(deadThreadLine)].filter((l) => l !== null);
  return lines.length === 0 ? { exitCode } : { exitCode, stderr: lines.join("; ") };
}

/** The stderr line of a run whose stacks were not all accounted for; null when they were. */
function accountingLine(r: RunResult): string | null {
  const [first, ...more] = accountingFailures(r);
  if (first === undefined) return null;
  return `${r.policy}: the stacks were not all accounted for (a bug): ${first}${more.length > 0 ? ` (and ${more.length} more)` : ""}`;
}

/**
 * The status a command ends with, from its runs' status: a failed accounting
 * (1) stands whatever else happened, since it says the figures printed are
 * wrong; else a stop by a signal (`interrupted`: its 130 or 143, null if
 * none came); else a report that could not be written is 6; else the runs' own.
 */
export function finalStatus(runsStatus: number, reportFailed: boolean, interrupted: number | null): number {
  if (runsStatus === EXIT.INTERNAL) return EXIT.INTERNAL;
  if (interrupted !== null) return interrupted;
  return reportFailed ? EXIT.REPORT_FAILED : runsStatus;
}

/** The exit statuses as --help lists them. */
export const EXIT_HELP = `Exit status: 0 every run completed; 3 at least one run aborted on VMA exhaustion
(results still printed); 4 coroutine bodies threw (custom workloads; see
--allow-failures); 5 a worker thread died or a run hit --timeout-ms (one stderr
line names the thread and the cause); 6 the results were printed but the
report could not be written; 2 bad input (one line; nothing runs); 130/143
stopped by SIGINT/SIGTERM (the results so far printed, the report marked
interrupted); 1 internal error, or a run's stacks were not all accounted for
(a bug: results printed, one stderr line says what). When several apply: 1
first, then 130/143, then 6, then the first of 5, 3, 4.`;

/** A report page to write once the command's results are out on stdout. */
export interface PendingReport {
  /** The checked absolute path (written through a symlink, never replacing it). */
  path: string;
  /** The page; loads the renderer when called, so commands run without it never load it. */
  render: () => Promise<string>;
  /** Print "report: PATH" after writing it (not with --json: stdout is the document alone). */
  announce: boolean;
}

/** A file besides the report to write once the results are out (plan's -o): same rules as the report's. */
export interface PendingOutput {
  /** The checked absolute path. */
  path: string;
  /** The flag that named it, for messages. */
  flag: string;
  /** Files the command read, which the output may not replace. */
  inputs: readonly string[];
  text: () => string;
  /** Print "wrote PATH" after writing it (not with --json). */
  announce: boolean;
}

/** What a command produced: printed whole at the end, so nothing is half-written. */
export interface CommandResult {
  /** Written after stdout and before the report; a failure there is one stderr line and EXIT.REPORT_FAILED. */
  outputs?: PendingOutput[];
  stdout: string;
  exitCode: number;
  /** Written after stdout; a failure there is one stderr line and EXIT.REPORT_FAILED. */
  report?: PendingReport;
  /** One line for stderr after the results (without the "coropool: " prefix), e.g. which thread died and why. */
  stderr?: string;
  /** The command runs until stopped (watch): a signal is how it ends, not an interruption, and its output was streamed as it went. */
  endsOnSignal?: boolean;
}
