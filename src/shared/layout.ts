/**
 * The one place that names every word of the shared region.
 *
 * The region is a single SharedArrayBuffer viewed two ways: an Int32Array for
 * everything a pool touches on its hot path, and a BigInt64Array for the few
 * counters that could pass 2^31 in a long run and for the tagged head of the
 * free-slot list (a 64-bit compare-and-swap defeats ABA).
 *
 *   Int32 words                                   BigInt64 words
 *   .--------------------------------.            .---------------------------.
 *   | header: policy, sizes, limits  |            | totals: created, freed,   |
 *   | VMA counter: current/peak/...  |            |   leaked                  |
 *   | global-pool mutex (state/owner)|            | free-slot head (tag|index)|
 *   | barrier words                  |            | mutex statistics          |
 *   |--------------------------------|            `---------------------------'
 *   | per-thread slots × threads     |  local pools, exit-cleanup flag, statistics
 *   |--------------------------------|
 *   | stack table × stacks           |  next link, state, owner, batch size/link
 *   `--------------------------------'
 *
 * Stacks are named by slot index. Pools are intrusive singly-linked lists
 * threaded through each slot's NEXT word, like QEMU's QSLIST, so moving a stack
 * between pools never allocates.
 */

/** The "null pointer" of every intrusive list in the region. */
export const NO_SLOT = -1;

/** Slot.OWNER of a stack no thread holds (in a shared pool, free, leaked or stranded). */
export const NO_OWNER = -1;

export const REGION_MAGIC = 0x43525031; // "CRP1"
export const LAYOUT_VERSION = 3;

/** Header words (Int32 indices from 0). */
export const Header = {
  MAGIC: 0,
  LAYOUT_VERSION: 1,
  POLICY: 2,
  THREAD_CAPACITY: 3,
  STACK_CAPACITY: 4,
  /**
   * legacy: pool_max_size; batched: global_pool_max_size. Unsigned 32-bit as in
   * QEMU, so a `dec` below zero wraps around.
   */
  POOL_MAX_SIZE: 5,
  /** batched: global_pool_hard_max_size, derived from max_map_count. */
  HARD_MAX_SIZE: 6,
  /** legacy: release_pool head; batched: head slot of the first global batch. */
  GLOBAL_POOL_HEAD: 7,
  /** legacy: release_pool_size; batched: global_pool_size (stacks). */
  GLOBAL_POOL_SIZE: 8,
  /** Next thread index to hand out to an attaching worker. */
  THREADS_CLAIMED: 9,
  /** AbortKind of the first VMA-exhaustion failure, so other threads stop too. */
  ABORTED: 10,
  /**
   * Mappings whose guard page failed: each still holds the 1 VMA of its mmap,
   * as a failed mprotect leaves the mapping in place.
   */
  STRANDED_MAPPINGS: 11,
  /** Head of the list of those mappings' slots, unmapped at shutdown. */
  STRANDED_HEAD: 12,
  /** 1 + the thread whose failure set ABORTED: the one QEMU would have died of. */
  ABORTED_THREAD: 13,
  /** elastic: head of the stacks exiting threads gave to the global pool (a plain list, under the mutex). */
  DONATED_HEAD: 14,
  /** elastic: how many stacks that list holds. */
  DONATED_SIZE: 15,
  /** elastic: the fewest stacks the global pool held since the current decay period began. */
  LOW_WATER: 16,
  /** elastic: idle stacks the main thread's tick could not trim (the lock was busy); the next holder does. */
  TRIM_DUE: 17,
  /**
   * elastic: the threads that hold a local pool now — whose exit cleanup is
   * registered (at their first put or refill) and has not run yet (exit, or
   * the reclaim of a dead thread). Its cap leaves room for their local batches.
   */
  LOCAL_POOL_HOLDERS: 18,
  /**
   * elastic: the decay gate (pools/decay-gate.ts): OPEN, DECAYING while the
   * main thread's tick trims and unmaps, HELD while a phase boundary's check
   * walks the region.
   */
  DECAY_GATE: 19,
} as const;

export const AbortKind = {
  NONE: 0,
  STACK_ALLOC: 1,
  GUARD_PAGE: 2,
} as const;
export const HEADER_WORDS = 20;

/** VMA counter words (Int32), right after the header. */
export const Vma = {
  CURRENT: HEADER_WORDS + 0,
  PEAK: HEADER_WORDS + 1,
  LIMIT: HEADER_WORDS + 2,
  BASELINE: HEADER_WORDS + 3,
} as const;
const VMA_WORDS = 4;

/** The global-pool mutex's Int32 words (its own layout is FutexMutex's business). */
export const MUTEX_I32_BASE = HEADER_WORDS + VMA_WORDS;
export const MUTEX_I32_WORDS = 4;

/** A phase barrier for scenario workers. */
export const BARRIER_I32_BASE = MUTEX_I32_BASE + MUTEX_I32_WORDS;
export const BARRIER_I32_WORDS = 4;

/** Where the per-thread slots begin (Int32 index). */
export const THREADS_BASE = BARRIER_I32_BASE + BARRIER_I32_WORDS;

/**
 * One per-thread slot. Only the owning thread writes the pool words; other
 * threads (the main thread's sampler, the invariant checker) only read them.
 */
export const Thread = {
  /** ThreadStatus below. */
  STATUS: 0,
  /**
   * batched: the first local batch (head slot, stack count). legacy: the
   * thread's alloc_pool and alloc_pool_size.
   */
  LOCAL_HEAD_0: 1,
  LOCAL_SIZE_0: 2,
  /** batched: the second local batch. Unused by legacy. */
  LOCAL_HEAD_1: 3,
  LOCAL_SIZE_1: 4,
  /** 1 once the thread's exit cleanup is registered (qemu_thread_atexit_add). */
  CLEANUP_REGISTERED: 5,
  /** batched: head slot of the last batch this thread handed to the global pool. */
  LAST_HANDED_HEAD: 6,
  // Statistics (cumulative for the slot; read as unsigned 32-bit).
  STAT_GETS: 7,
  STAT_POOL_HITS: 8,
  STAT_STACKS_CREATED: 9,
  STAT_STACKS_FREED: 10,
  STAT_PUTS: 11,
  /** batched: batches taken from the global pool. legacy: release-pool take-alls. */
  STAT_REFILLS: 12,
  /** batched: refills that took back the batch this thread had just handed over. */
  STAT_BOUNCES: 13,
  /** batched: full batches that joined the global pool. */
  STAT_HAND_OVERS: 14,
  /** batched: full batches freed because the global pool was full. */
  STAT_HAND_OVER_DISCARDS: 15,
  /** Global-lock acquisitions made by this thread. */
  STAT_LOCK_ACQUISITIONS: 16,
  /** legacy: stacks left behind at exit because the cleanup was never registered. */
  STAT_STACKS_LEAKED: 17,
  /**
   * Coroutines created on this thread minus those terminated on it. Summed over
   * threads it is the live count; one thread's value is its own only when
   * coroutines terminate where they were created (always so in the runtime).
   */
  LIVE: 18,
  /** Units of scenario work done (rounds, requests), for the progress display. */
  PROGRESS: 19,
  /** 1 + the index of the runtime task that claimed this thread, so a failed task names its thread. */
  TASK_ID: 20,
} as const;
export const THREAD_WORDS = 24;

export const ThreadStatus = {
  UNUSED: 0,
  ATTACHED: 1,
  EXITED: 2,
  /** The worker died (threw, exited, was terminated) before its thread exit ran. */
  DEAD: 3,
  /** Its part ended without the thread's exit: its pools wait for its next part (a hosted runtime). */
  PARKED: 4,
} as const;

/** One stack-table slot (Int32 words, relative to the slot's base). */
export const Slot = {
  /** Intrusive link: next stack in whichever list holds this one. */
  NEXT: 0,
  /** SlotState below. */
  STATE: 1,
  /** Thread index owning it (live on, or in the local pool of); -1 otherwise. */
  OWNER: 2,
  /** Only on the head slot of a batch in the global pool: its stack count... */
  BATCH_SIZE: 3,
  /** ...and the head slot of the next global batch. */
  BATCH_NEXT: 4,
} as const;
export const SLOT_WORDS = 5;

/** Where a slot's stack is. Every mapped stack is in exactly one place. */
export const SlotState = {
  /** No stack: the slot is on the free-slot list. */
  FREE: 0,
  /** Owned by a coroutine that has not terminated. */
  LIVE: 1,
  /** In a thread's local pool (legacy alloc pool / batched local batch). */
  LOCAL_POOL: 2,
  /** In the legacy release pool or a batched global batch. */
  GLOBAL_POOL: 3,
  /** Still mapped but unreachable: a legacy thread exited without cleanup. */
  LEAKED: 4,
  /** A mapping whose guard page failed: 1 VMA, no usable stack, on the stranded list. */
  STRANDED: 5,
} as const;
export type SlotStateValue = (typeof SlotState)[keyof typeof SlotState];

/** BigInt64 words. */
export const Totals = {
  STACKS_CREATED: 0,
  STACKS_FREED: 1,
  STACKS_LEAKED: 2,
  /** Tagged head of the free-slot list: (tag << 32) | (index + 1). */
  FREE_SLOT_HEAD: 3,
} as const;
export const MUTEX_I64_BASE = 4;
export const MUTEX_I64_WORDS = 4;
/**
 * elastic: when its current decay period began, in ms of the clock its tick
 * is given — a float64 in this 64-bit word, kept in the region (not in a
 * policy's view) so that a view opened on a grown region goes on with it.
 */
export const DECAY_PERIOD_START_I64 = MUTEX_I64_BASE + MUTEX_I64_WORDS;
export const I64_WORDS = DECAY_PERIOD_START_I64 + 1;

/**
 * Stands for the controlling (main) thread where a thread index is asked for:
 * what it frees counts in no thread's statistics.
 */
export const CONTROLLER_THREAD = -1;

/** Int32 index of thread `t`'s slot. */
export function threadBase(t: number): number {
  return THREADS_BASE + t * THREAD_WORDS;
}

/** Int32 index where the stack table starts. */
export function stackTableBase(threadCapacity: number): number {
  return THREADS_BASE + threadCapacity * THREAD_WORDS;
}

/** Byte sizes of the two views, for a region of the given capacities. */
export function regionByteLength(threadCapacity: number, stackCapacity: number): {
  i64Bytes: number;
  i32Bytes: number;
  total: number;
} {
  const i64Bytes = I64_WORDS * 8;
  const i32Words = stackTableBase(threadCapacity) + stackCapacity * SLOT_WORDS;
  const i32Bytes = i32Words * 4;
  return { i64Bytes, i32Bytes, total: i64Bytes + i32Bytes };
}
