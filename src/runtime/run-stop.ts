/**
 * Why a run stops before its parts end, and what its unfinished threads are
 * told: its time limit, its AbortSignal, or a callback of the caller's that
 * threw. How the workers are then stopped is stop-control.ts's business.
 */

/** Why a run stopped before its parts ended: its time limit, its AbortSignal, or a callback of the caller's that threw. */
export type StopCause = "timeout" | "interrupted" | "failed";

/**
 * The caller's callbacks (onProgress, onSample) run on the main thread's
 * timers, where a throw would be uncaught and end the caller's process. Each
 * call goes through guard(): the first throw is kept, the run stops (its
 * workers stopped like a timeout's) and rejects with it; no callback is called
 * after that.
 */
export class CallbackFailure {
  private thrown: { error: unknown } | null = null;
  private onFail: (() => void) | null = null;
  /** Settles when a callback has thrown (at once if one already has). */
  readonly happened = new Promise<"failed">((resolve) => (this.onFail = () => resolve("failed")));

  get failure(): { error: unknown } | null {
    return this.thrown;
  }

  guard<A extends unknown[]>(callback: (...args: A) => void): (...args: A) => void {
    return (...args) => {
      if (this.thrown !== null) return;
      try {
        callback(...args);
      } catch (error) {
        this.thrown = { error };
        this.onFail?.();
      }
    };
  }
}

/**
 * Settles when a run must stop before its parts end: its time limit passed,
 * its AbortSignal fired, or a callback threw. `already` is the cause that
 * holds before anything starts (nothing is then started). cancel() stops
 * listening once the parts have ended.
 */
export function stopWhen(
  timeoutMs: number,
  signal: AbortSignal | undefined,
  callbacks: CallbackFailure,
): { already: StopCause | null; stopped: Promise<StopCause>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const already: StopCause | null = callbacks.failure ? "failed" : signal?.aborted ? "interrupted" : null;
  const stopped = new Promise<StopCause>((resolve) => {
    if (already) return resolve(already);
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
    onAbort = () => resolve("interrupted");
    signal?.addEventListener("abort", onAbort, { once: true });
    void callbacks.happened.then(resolve);
  });
  return {
    already,
    stopped,
    cancel() {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener("abort", onAbort);
    },
  };
}

/**
 * How long a stop waits for every worker to reach a safe point before it
 * terminates the rest anyway. A worker between two pool operations gets
 * there in microseconds of its own time; the ones still going after this
 * are stuck in a workload's own code (a coroutine that never yields back),
 * which holds no pool operation half done.
 */
export const STOP_GRACE_MS = 2000;
/** How often the main thread looks whether every worker holds still. */
export const STOP_POLL_MS = 5;

const STOP_REASONS: Record<StopCause, { started: (timeoutMs: number) => string; notStarted: (timeoutMs: number) => string }> = {
  timeout: { started: (ms) => `did not finish within ${ms} ms`, notStarted: (ms) => `did not start within ${ms} ms` },
  interrupted: { started: () => "interrupted before it finished", notStarted: () => "interrupted before it started" },
  failed: { started: () => "stopped before it finished: a callback threw", notStarted: () => "stopped before it started: a callback threw" },
};

/** Why a stopped run's thread did not finish its part (one that had started: its worker was terminated, at a safe point or after the grace). */
export function stopReason(cause: StopCause, timeoutMs: number, started: boolean): string {
  const reasons = STOP_REASONS[cause];
  return started ? `${reasons.started(timeoutMs)}; its worker was terminated` : reasons.notStarted(timeoutMs);
}
