/**
 * How the main thread stops a phase's workers without cutting a pool
 * operation in half.
 *
 * worker.terminate() lands wherever the worker is: between charging a
 * mapping's VMA and marking its stack live, in the middle of relabelling a
 * batch taken from the global pool, between freeing a slot and releasing its
 * VMAs. The stacks such a worker held can no longer be told apart, and a stop
 * at that moment left the counter one VMA off, or a batch on no list. So a
 * stop asks first: it raises a flag, each worker looks at it at its safe
 * points (before a coroutine is created or entered, at a progress step, at a
 * barrier), where it holds no lock and no operation is half done, and there
 * it parks for good, saying so. A worker asleep at a barrier is at a safe
 * point already: the main thread claims it there. Only once every worker is
 * parked, claimed or done are the workers terminated; what they held is then
 * exactly where the stack table says.
 *
 *   Int32 words of its own SharedArrayBuffer (one per phase):
 *   [0]        STOP: 1 once the main thread asks every worker to stop
 *   [1 + t]    thread t: RUNNING, AT_SAFE_POINT (asleep at a barrier) or STOPPED
 *
 *   worker, at a barrier:  RUNNING ──store──> AT_SAFE_POINT ──CAS──> RUNNING
 *   main thread:                              AT_SAFE_POINT ──CAS──> STOPPED
 *   worker, at a safe point with STOP set:    RUNNING ──store──> STOPPED, parks
 *
 * A worker that wakes from the barrier and finds itself STOPPED parks without
 * touching a pool. The CAS makes the two sides agree on who won.
 */
const STOP = 0;
const THREAD_WORDS_BASE = 1;

export const StopState = {
  RUNNING: 0,
  AT_SAFE_POINT: 1,
  STOPPED: 2,
} as const;

export class StopControl {
  readonly buffer: SharedArrayBuffer;
  private readonly i32: Int32Array;

  private constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.i32 = new Int32Array(buffer);
  }

  /** A control for a phase of `threads` threads, nobody asked to stop. */
  static create(threads: number): StopControl {
    return new StopControl(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT * (THREAD_WORDS_BASE + threads)));
  }

  /** A worker's view of the control its task carries. */
  static attach(buffer: SharedArrayBuffer): StopControl {
    return new StopControl(buffer);
  }

  get threads(): number {
    return this.i32.length - THREAD_WORDS_BASE;
  }

  // --- the main thread's side ---

  /** Asks every worker to stop at its next safe point. */
  request(): void {
    Atomics.store(this.i32, STOP, 1);
  }

  /**
   * Whether `thread` will touch no pool again: it parked itself, or it was
   * asleep at a barrier and is claimed now (it parks when it wakes).
   */
  holdsStill(thread: number): boolean {
    const at = THREAD_WORDS_BASE + thread;
    Atomics.compareExchange(this.i32, at, StopState.AT_SAFE_POINT, StopState.STOPPED);
    return Atomics.load(this.i32, at) === StopState.STOPPED;
  }

  // --- a worker's side ---

  /**
   * A safe point: if a stop was asked for, `thread` parks here for good (the
   * main thread then terminates it). A plain read, not Atomics.load: it runs
   * at every coroutine enter, where Atomics.load cost 10% of a whole
   * create-enter-enter-terminate (measured, CPU time, batched, one thread);
   * the flag only ever goes from 0 to 1, the next safe point sees it, and
   * what is published after it (the thread's state) goes through Atomics.
   */
  stopPoint(thread: number): void {
    if (this.i32[STOP] !== 0) this.park(thread);
  }

  /** `thread` is about to sleep at a barrier: the main thread may claim it there. */
  enterSafePoint(thread: number): void {
    Atomics.store(this.i32, THREAD_WORDS_BASE + thread, StopState.AT_SAFE_POINT);
  }

  /** `thread` woke from the barrier: it goes on, unless the main thread claimed it meanwhile (then it parks). */
  leaveSafePoint(thread: number): void {
    const at = THREAD_WORDS_BASE + thread;
    if (Atomics.compareExchange(this.i32, at, StopState.AT_SAFE_POINT, StopState.RUNNING) !== StopState.AT_SAFE_POINT) this.park(thread);
  }

  /** Says `thread` stopped, then sleeps until its worker is terminated. */
  private park(thread: number): never {
    Atomics.store(this.i32, THREAD_WORDS_BASE + thread, StopState.STOPPED);
    for (;;) Atomics.wait(this.i32, STOP, 1);
  }
}
