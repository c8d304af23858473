/**
 * Worker entry for test/pools-threads.test.ts: one real worker thread playing one
 * IOThread that creates and terminates coroutines against a shared region.
 *
 * The workload is a pure function of (seed, ops, limits): the same spec always
 * makes the same sequence of acquire/release calls, whatever the other threads do.
 * Only which slot each acquire returns depends on the interleaving. That lets the
 * test assert exact per-thread counts, and replay a worker's sequence on the main
 * thread as a model (`runMixedWorkload` is exported for that).
 *
 * Every wait is bounded: a stuck probe reports a failure, it never hangs.
 */

import { parentPort, workerData } from "node:worker_threads";
import { openPolicy } from "../../src/pools/index.js";
import type { PoolPolicy } from "../../src/pools/policy.js";
import { SharedRegion } from "../../src/shared/region.js";
import { StackAllocator } from "../../src/stacks/stack-allocator.js";
import { ThreadStacks } from "../../src/pools/thread-stacks.js";
import { BARRIER_INT32_WORDS, Barrier } from "../../src/sync/barrier.js";

/** Words of the probes' own small shared buffer (apart from the pool region). */
export const Gate = {
  /** A Barrier over all probes, so they start the workload together. */
  BARRIER: 0,
  /** Set to 1 by the producer of the flow test when it has finished. */
  PRODUCER_DONE: BARRIER_INT32_WORDS,
  /** Always 0: a word to sleep on for a bounded nap. */
  NAP: BARRIER_INT32_WORDS + 1,
} as const;
export const GATE_WORDS = BARRIER_INT32_WORDS + 2;

/** How long a probe waits for the others at the start line, or for the producer. */
const PATIENCE_MS = 8_000;
/** A consumer waiting for a global batch re-checks this often. */
const NAP_MS = 1;

/** The mixed workload: random bursts of creates and terminates. */
export interface MixedSpec {
  seed: number;
  /** Acquire + release calls to make in total. */
  ops: number;
  /** Never hold more than this many stacks at once. */
  maxHeld: number;
  /** Largest single burst of acquires. */
  maxBurst: number;
}

export type ProbeRole =
  | { kind: "mixed"; spec: MixedSpec }
  /** Bursts of `burst` creates then as many terminates, so full batches go global. */
  | { kind: "producer"; bursts: number; burst: number; seed: number }
  /** Only creates, `count` of them; takes pooled stacks while the producer runs. */
  | { kind: "consumer"; count: number };

export interface PoolProbeData {
  buffer: SharedArrayBuffer;
  gate: SharedArrayBuffer;
  /** Probes that meet at the start line. */
  parties: number;
  thread: number;
  role: ProbeRole;
  /** Run the thread-exit cleanup when the workload is over. */
  exitAtEnd: boolean;
  /**
   * Meet every probe at the start line again once the workload is over, so
   * the exits come after all the work (nobody takes what an exit gave back).
   */
  exitAfterAll?: boolean;
}

export interface WorkloadCounts {
  acquires: number;
  releases: number;
  /** Times every held stack was released at once. */
  drains: number;
}

export type ProbeReport =
  | { type: "done"; thread: number; counts: WorkloadCounts; held: number[] }
  | { type: "failed"; thread: number; message: string };

/** The two calls a workload makes: ThreadStacks, or a model of it. */
export interface StackUser {
  acquireStack(): number;
  releaseStack(slot: number): void;
}

/** xorshift32: tiny, seedable, and the same sequence on every thread and run. */
export class Xorshift32 {
  private state: number;

  constructor(seed: number) {
    // Zero is xorshift's fixed point; any other seed gives the full period.
    this.state = seed >>> 0 || 0x9e3779b9;
  }

  next(): number {
    let x = this.state;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return this.next() % n;
  }
}

/** Tracks what the workload holds and counts every call it makes. */
class Holder {
  readonly held: number[] = [];
  readonly counts: WorkloadCounts = { acquires: 0, releases: 0, drains: 0 };

  constructor(
    private readonly stacks: StackUser,
    private readonly rng: Xorshift32,
  ) {}

  get ops(): number {
    return this.counts.acquires + this.counts.releases;
  }

  acquire(n: number): void {
    for (let i = 0; i < n; i++) {
      this.held.push(this.stacks.acquireStack());
      this.counts.acquires++;
    }
  }

  /** Releases n held stacks picked at random, so pools see stacks out of creation order. */
  releaseRandom(n: number): void {
    for (let i = 0; i < n; i++) {
      const at = this.rng.below(this.held.length);
      const slot = this.held[at]!;
      this.held[at] = this.held[this.held.length - 1]!;
      this.held.pop();
      this.stacks.releaseStack(slot);
      this.counts.releases++;
    }
  }
}

/**
 * Random bursts: grow by up to maxBurst, shrink by a random amount, or (1 in 8)
 * release everything. Every decision depends only on the generator and on how
 * many stacks are held, never on slot numbers, so it is deterministic.
 */
export function runMixedWorkload(stacks: StackUser, spec: MixedSpec): { counts: WorkloadCounts; held: number[] } {
  const rng = new Xorshift32(spec.seed);
  const h = new Holder(stacks, rng);
  while (h.ops < spec.ops) {
    const left = spec.ops - h.ops;
    const choice = rng.below(8);
    const room = spec.maxHeld - h.held.length;
    if (h.held.length === 0 || (choice < 4 && room > 0)) {
      h.acquire(Math.min(1 + rng.below(spec.maxBurst), room, left));
    } else if (choice === 7) {
      h.releaseRandom(Math.min(h.held.length, left));
      h.counts.drains++;
    } else {
      h.releaseRandom(Math.min(1 + rng.below(h.held.length), left));
    }
  }
  return { counts: h.counts, held: h.held };
}

/** Create-and-terminate bursts: each release burst hands full batches to the global pool. */
function runProducer(stacks: StackUser, role: Extract<ProbeRole, { kind: "producer" }>, gate: Int32Array) {
  const h = new Holder(stacks, new Xorshift32(role.seed));
  try {
    for (let b = 0; b < role.bursts; b++) {
      h.acquire(role.burst);
      h.releaseRandom(role.burst);
      h.counts.drains++;
    }
  } finally {
    // Even on failure: the consumer must not wait for a producer that is gone.
    Atomics.store(gate, Gate.PRODUCER_DONE, 1);
  }
  return { counts: h.counts, held: h.held };
}

/**
 * Only creates. While the producer runs, it creates only when a pooled stack is
 * there to take (its local batch or a global one), so it provably takes stacks the
 * producer made; once the producer is done it creates regardless.
 */
function runConsumer(
  stacks: StackUser,
  role: Extract<ProbeRole, { kind: "consumer" }>,
  gate: Int32Array,
  policy: PoolPolicy,
  thread: number,
) {
  const h = new Holder(stacks, new Xorshift32(1));
  const deadline = performance.now() + PATIENCE_MS;
  while (h.counts.acquires < role.count) {
    const pooled = policy.localPoolSize(thread) > 0 || policy.globalPoolSize() > 0;
    if (pooled || Atomics.load(gate, Gate.PRODUCER_DONE) === 1) {
      h.acquire(1);
      continue;
    }
    if (performance.now() > deadline) throw new Error(`consumer: no pooled stack and no producer finish within ${PATIENCE_MS} ms`);
    Atomics.wait(gate, Gate.NAP, 0, NAP_MS);
  }
  return { counts: h.counts, held: h.held };
}

function runProbe(data: PoolProbeData): ProbeReport {
  const region = SharedRegion.attach(data.buffer);
  const allocator = new StackAllocator(region);
  const policy = openPolicy(region, allocator);
  const stacks = new ThreadStacks(region, policy, allocator, data.thread);
  const gate = new Int32Array(data.gate);
  const line = new Barrier(gate, Gate.BARRIER, data.parties);
  line.arriveAndWait(PATIENCE_MS);
  const role = data.role;
  const result =
    role.kind === "mixed"
      ? runMixedWorkload(stacks, role.spec)
      : role.kind === "producer"
        ? runProducer(stacks, role, gate)
        : runConsumer(stacks, role, gate, policy, data.thread);
  if (data.exitAfterAll) line.arriveAndWait(PATIENCE_MS);
  if (data.exitAtEnd) stacks.exit();
  return { type: "done", thread: data.thread, ...result };
}

/** Wrapped so a thread started by anything else (a test runner's pool) never runs a probe. */
const probeData = (workerData as { poolProbe?: PoolProbeData } | null)?.poolProbe;
if (probeData !== undefined && parentPort !== null) {
  let report: ProbeReport;
  try {
    report = runProbe(probeData);
  } catch (error) {
    const message = error instanceof Error ? `${error.name}: ${error.message}\n${error.stack ?? ""}` : String(error);
    report = { type: "failed", thread: probeData.thread, message };
  }
  parentPort.postMessage(report);
}
