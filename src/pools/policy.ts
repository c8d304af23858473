import type { PolicyName } from "./policy-name.js";

/**
 * The shape every pool policy has: the pool half of QEMU's
 * qemu_coroutine_create / coroutine_delete, the thread-exit notifier and the
 * device-driven pool-size changes.
 *
 * `thread` is always the calling thread's index: per-thread state belongs to
 * the thread that runs the coroutine, exactly as QEMU's thread-locals do. (The
 * deterministic replay drives several simulated threads from one real one.)
 */
export interface PoolPolicy {
  readonly name: PolicyName;
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
}

/** The sizes QEMU keeps as `unsigned int`: every update wraps at 2^32. */
export function u32(value: number): number {
  return value >>> 0;
}
