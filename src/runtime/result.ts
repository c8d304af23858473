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
  /** False when a thread hit VMA exhaustion (QEMU would have aborted). */
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

/** One phrase for how a run ended: a dead worker, QEMU's abort, or completed. */
export function describeOutcome(r: RunResult): string {
  if (r.deadThreads.length > 0) {
    return `FAILED: ${r.deadThreads.map((d) => `T${d.thread} died (${d.reason})`).join("; ")}${r.timedOut ? " [run timed out]" : ""}`;
  }
  return r.abort ? `ABORTED: ${r.abort.message}` : "completed";
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
