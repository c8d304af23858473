import { shortened } from "../message-text.js";
import type { PolicyName } from "../pools/index.js";
import type { CrossCheck } from "../stacks/cross-check.js";
import type { AbortSnapshot, DeadThreadReport, PhaseCheck } from "./protocol.js";
import type { Sample } from "./sampler.js";
import { Thread } from "../shared/layout.js";
import type { SharedRegion } from "../shared/region.js";

/** Per-thread counters, read from the thread's slot after the run. */
export interface ThreadStats {
  thread: number;
  stacksCreated: number;
  stacksFreed: number;
  gets: number;
  poolHits: number;
  puts: number;
  /** batched: batches taken from the global pool; legacy: release-pool take-alls. */
  refills: number;
  /** batched: refills that took back the batch this thread had just handed over. */
  bounces: number;
  handOvers: number;
  handOverDiscards: number;
  lockAcquisitions: number;
  leakedAtExit: number;
  peakPooled: number;
}

/** What a run returns: typed, and the basis of every report. */
export interface RunResult {
  policy: PolicyName;
  threads: number;
  /** False when a thread hit VMA exhaustion (QEMU would have aborted), a worker died, or the run was stopped early. */
  completed: boolean;
  abort: AbortSnapshot | null;
  /** Worker threads that died (threw, exited, were terminated), with what was reclaimed of their stacks. */
  deadThreads: DeadThreadReport[];
  /** Stacks of a batch in flight between a dead thread and the global pool, reclaimed. */
  reclaimedInFlight: number;
  /** The run hit its time limit and its workers were terminated. */
  timedOut: boolean;
  /** The run was stopped before it finished (its AbortSignal fired; Ctrl-C in the CLI). */
  interrupted: boolean;
  durationMs: number;
  stacks: { created: number; freed: number; leaked: number; liveAtEnd: number };
  vmas: { baseline: number; limit: number; peak: number; final: number; backToBaseline: boolean };
  pool: { maxSize: number; hardMaxSize: number; drainedAtShutdown: number };
  /** Mappings left by failed guard pages (one per failing thread), unmapped at shutdown. */
  strandedMappingsReleased: number;
  lock: { acquisitions: number; contended: number; waitNs: number; recoveries: number };
  perThread: ThreadStats[];
  samples: Sample[];
  /** From the invariant walk after shutdown; empty when every stack was accounted for. */
  invariantViolations: string[];
  /** The invariant checker at each phase boundary (with --check) and after shutdown. */
  phaseChecks: PhaseCheck[];
  /** Scenario-specific figures, indexed by thread; null for a thread that died. */
  parts: unknown[];
  backend: "simulated" | "kernel";
  /** Kernel mode: the counter against /proc/self/maps at start, each phase boundary, and after shutdown. */
  crossChecks: CrossCheck[];
  /** The checks that disagreed, each with both numbers; empty when all agreed. */
  crossCheckMismatches: string[];
}

/** Characters of a dead thread's reason an outcome cell shows; the full reason is on its own line. */
const OUTCOME_REASON_CHARS = 48;

/**
 * One short phrase for how a run ended: stopped (interrupted or timed out),
 * a dead worker, QEMU's abort, or completed. Short whatever the number of
 * threads: it is one cell of a table; troubleLines() gives every thread's
 * whole reason.
 */
export function describeOutcome(r: RunResult): string {
  const dead = r.deadThreads;
  // A run stopped before its threads attached has none to name.
  const threads = dead.length === 0 ? "before its threads started" : `${dead.length === 1 ? `T${dead[0]!.thread}` : `${dead.length} threads`} stopped`;
  if (r.interrupted) return `INTERRUPTED: ${threads}`;
  if (r.timedOut) return `TIMED OUT: ${threads} at ${Math.round(r.durationMs)} ms`;
  if (dead.length > 0) {
    const first = dead[0]!;
    const reason = shortened(first.reason, OUTCOME_REASON_CHARS);
    return dead.length === 1 ? `FAILED: T${first.thread} died (${reason})` : `FAILED: ${dead.length} threads died (T${first.thread}: ${reason})`;
  }
  return r.abort ? `ABORTED: ${r.abort.message}` : "completed";
}

/**
 * The one line a run that lost threads earns on stderr, naming the first
 * thread and its cause (and how many more); null when none died.
 */
export function deadThreadLine(r: RunResult): string | null {
  const first = r.deadThreads[0];
  // An interrupted run's threads were stopped on purpose: the interruption is said once, for the command.
  if (r.interrupted) return null;
  if (first === undefined) return r.timedOut ? `${r.policy}: timed out at ${Math.round(r.durationMs)} ms, before its threads started` : null;
  const more = r.deadThreads.length > 1 ? ` (and ${r.deadThreads.length - 1} more thread(s))` : "";
  const what = r.timedOut ? "timed out" : r.interrupted ? "interrupted" : "worker died";
  return `${r.policy}: ${what}: T${first.thread}: ${first.reason}${more}`;
}

/**
 * What the run's accounting found wrong: every violation of the invariant
 * walks (after shutdown, and at phase boundaries with check on) and every
 * /proc/self/maps mismatch. Empty when every stack was where the stack table
 * says. Anything here is a bug of coropool's, whatever else the run met.
 */
export function accountingFailures(r: Pick<RunResult, "phaseChecks" | "crossCheckMismatches">): string[] {
  return [
    ...r.phaseChecks.flatMap((c) => c.violations.map((v) => `invariant violated ${c.point}: ${v}`)),
    ...r.crossCheckMismatches.map((m) => `/proc/self/maps mismatch ${m}`),
  ];
}

export function readThreadStats(region: SharedRegion, t: number, peakPooled: number): ThreadStats {
  const w = (field: number) => region.threadWord(t, field);
  return {
    thread: t,
    stacksCreated: w(Thread.STAT_STACKS_CREATED),
    stacksFreed: w(Thread.STAT_STACKS_FREED),
    gets: w(Thread.STAT_GETS),
    poolHits: w(Thread.STAT_POOL_HITS),
    puts: w(Thread.STAT_PUTS),
    refills: w(Thread.STAT_REFILLS),
    bounces: w(Thread.STAT_BOUNCES),
    handOvers: w(Thread.STAT_HAND_OVERS),
    handOverDiscards: w(Thread.STAT_HAND_OVER_DISCARDS),
    lockAcquisitions: w(Thread.STAT_LOCK_ACQUISITIONS),
    leakedAtExit: w(Thread.STAT_STACKS_LEAKED),
    peakPooled,
  };
}
