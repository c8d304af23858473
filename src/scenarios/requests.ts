import type { Coroutine } from "../coroutine/index.js";
import type { ThreadEnv } from "../runtime/thread-env.js";

/**
 * One I/O request's coroutine, as a virtio-blk request handler runs: it is
 * submitted, waits (yields) for its completion, and ends when re-entered.
 */
function* request(): Generator<undefined, void, unknown> {
  yield;
}

/**
 * Puts up to `n` requests in flight, each in its own coroutine. Stops early
 * if the run has aborted (here or on another thread). Returns how many.
 */
export function submitBurst(env: ThreadEnv, n: number, inFlight: Coroutine[]): number {
  const ctx = env.coroutines;
  const submit = (): void => {
    const co = ctx.create(request);
    ctx.enter(co);
    inFlight.push(co);
  };
  let submitted = 0;
  while (submitted < n && !env.aborted() && env.tryCreate(submit)) submitted++;
  return submitted;
}

/** Completes every request in flight: each coroutine runs to its end and gives its stack back. */
export function completeAll(env: ThreadEnv, inFlight: Coroutine[]): number {
  for (const co of inFlight) env.coroutines.enter(co);
  const n = inFlight.length;
  inFlight.length = 0;
  return n;
}
