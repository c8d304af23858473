/**
 * Where a coroutine's stack comes from and where it goes back to.
 *
 * The coroutine runtime does not know about pools: each thread's
 * CoroutineContext is handed one StackSource (the thread's view of whichever
 * pool policy is in use) and calls it exactly twice per coroutine — once when
 * the coroutine is created, once when it terminates.
 */
export interface StackSource {
  /** Take a stack for a new coroutine (pooled or newly mapped). May throw (e.g. VMA exhaustion: let it propagate unchanged). */
  acquireStack(): number;
  /** The coroutine terminated on this thread: give its stack back to this thread's pool. */
  releaseStack(slot: number): void;
}
