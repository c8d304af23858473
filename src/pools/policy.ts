import type { SharedRegion } from "../shared/region.js";
import type { StackAllocator } from "../stacks/stack-allocator.js";
import type { MutexStats } from "../sync/futex-mutex.js";

/**
 * The shape every pool policy has: the pool half of QEMU's
 * qemu_coroutine_create / coroutine_delete, the thread-exit notifier and the
 * device-driven pool-size changes, plus what the runtime asks of a pool at
 * its edges (statistics, the invariant walk, a dead thread's stacks). The
 * runtime asks nothing of a policy outside this interface.
 *
 * `thread` is always the calling thread's index: per-thread state belongs to
 * the thread that runs the coroutine, exactly as QEMU's thread-locals do. (The
 * deterministic replay drives several simulated threads from one real one.)
 */
export interface PoolPolicy {
  /** The policy's name in the registry (pools/registry.ts). */
  readonly name: string;
  /** A pooled stack for a coroutine created on `thread`, or NO_SLOT (make a new one). */
  get(thread: number): number;
  /** The stack of a coroutine that terminated on `thread`: pool it or free it. */
  put(thread: number, slot: number): void;
  /** `thread` exits: run its exit cleanup if it was registered, then forget its state. */
  exitThread(thread: number): void;
  /** A device was added (qemu_coroutine_inc_pool_size). */
  incPoolSize(n: number): void;
  /** A device was removed (qemu_coroutine_dec_pool_size). */
  decPoolSize(n: number): void;
  /** Stacks in the shared pool: legacy release pool, batched global pool. */
  globalPoolSize(): number;
  /** Stacks in `thread`'s local pool, as QEMU counts them. */
  localPoolSize(thread: number): number;
  /** After every thread has exited: free what the shared pool still holds. */
  drainGlobalPool(): number;
  /**
   * `thread` died before its exit ran (its worker threw, exited or was
   * stopped): free every stack of its local pool on the controlling thread's
   * behalf, whatever its exit cleanup would have done, and forget its state.
   * Returns how many stacks were freed. At a quiescent point only.
   */
  reclaimDeadThread(thread: number): number;
  /**
   * Walks every list the policy keeps, through `walker`, and checks what only
   * the policy knows (sizes against lists, per-thread limits). At a quiescent
   * point only: the invariant checker (pools/invariants.ts) calls it.
   */
  census(walker: ListWalker): PoolCensus;
  /**
   * The passing of time, from the controlling thread only: the runtime's
   * sampler calls it with the run's clock (ms since the start), the replay
   * after every event with the trace's time (ms) or, in a trace without
   * times, the number of events so far. A policy that gives idle stacks
   * back does it here (elastic); the others ignore it. Never blocks: the
   * main thread must not wait for a lock.
   */
  tick(nowMs: number): void;
  /**
   * A decay period ends now, whatever the clock says: the replay of a
   * patched QEMU's log calls it where QEMU's decay timer fired. Only a
   * policy that decays (elastic) has it.
   */
  endDecayPeriod?(nowMs: number): void;
  /** The global lock's figures; all zero for a policy that has no lock. */
  lockStats(): MutexStats;
  /**
   * Test hook: called inside every critical section of the policy's global
   * lock with the calling thread, so a test can make a worker die while it
   * holds the lock. A policy without a lock never calls it.
   */
  onCriticalSection: ((thread: number) => void) | null;
}

/**
 * What the invariant checker lends a policy for its census: one walk per
 * list, which checks each slot's state and owner and that no two lists (nor
 * one list twice) reach the same slot.
 */
export interface ListWalker {
  /**
   * Walks the list starting at `head`; every slot on it must be in `state`
   * and, for owner >= 0, owned by `owner`. `where` names the list in
   * violations. Returns the slots walked (stopping at the first slot already
   * reached, or outside the table).
   */
  walk(head: number, state: number, owner: number, where: string): number;
  /** Records `message` as a violation unless `ok`. */
  expect(ok: boolean, message: string): void;
}

/** What a policy's lists hold, found by walking them. */
export interface PoolCensus {
  /** Stacks on the shared pool's lists. */
  global: number;
  /** Stacks on each thread's local lists, indexed by thread. */
  local: number[];
  /**
   * The shared pool's recorded size minus its real length. Zero for a policy
   * whose sizes are exact; legacy's are QEMU's heuristics and may be skewed
   * by a push racing a take-all, faithfully, so the skew is reported rather
   * than counted as a violation.
   */
  globalSizeSkew: number;
  /** The same, for each thread's local pool. */
  localSizeSkew: number[];
}

/**
 * One policy as the registry (pools/registry.ts) knows it: its name, what
 * the region's header starts with for it, and how to open a view of it.
 */
export interface PolicyDefinition<Name extends string = string> {
  readonly name: Name;
  /** POOL_MAX_SIZE before any device raises it (legacy pool_max_size, batched global_pool_max_size). */
  readonly initialPoolMaxSize: number;
  /**
   * Whether the policy reads HARD_MAX_SIZE (batched's
   * global_pool_hard_max_size, from max_map_count; `--uncapped` lifts it).
   * The region records the cap for every policy; only these obey it.
   */
  readonly usesHardCap: boolean;
  /**
   * The cap the policy's global pool obeys, from what the region records:
   * HARD_MAX_SIZE (batched's cap, or UINT_MAX under `--uncapped`), the VMA
   * limit, and `holders`, the threads that hold a local pool at the moment
   * (elastic's cap falls by two batches for each; batched's ignores it).
   * null for a policy without one.
   */
  readonly globalPoolCap: ((hardMaxSize: number, vmaLimit: number, holders: number) => number) | null;
  /** Whether the policy takes the global lock, so its lock figures mean something. */
  readonly usesGlobalLock: boolean;
  /**
   * For a policy that obeys the hard cap: when the cap is only ever compared
   * with a pool size that is a multiple of this step (batched: the global
   * pool holds whole batches of 128), the policy's decisions depend on the
   * cap only through ceil(cap / step). That makes the what-if's smallest
   * safe max_map_count exact (src/replay/whatif.ts); without it, none is given.
   */
  readonly hardCapStep?: number;
  /**
   * Whether that holds only while no thread exits (elastic: an exiting
   * thread's donation fills the global pool to the stack, not the batch).
   */
  readonly hardCapStepNeedsNoExits?: boolean;
  /**
   * Whether `--uncapped` lifts the cap entirely (batched: what QEMU does on
   * Linux, where its parser rejects /proc's trailing newline). A policy whose
   * cap falls back on the VMA limit itself (elastic) is never without one.
   */
  readonly liftableCap?: boolean;
  /** This thread's view of the policy on a region created for it. */
  open(region: SharedRegion, stacks: StackAllocator): PoolPolicy;
}

/** The sizes QEMU keeps as `unsigned int`: every update wraps at 2^32. */
export function u32(value: number): number {
  return value >>> 0;
}
