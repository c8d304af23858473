/**
 * A workload module for the runtime-handle and custom-workload examples.
 *
 * Each thread creates `options.coroutines` coroutines (default 64); each one
 * yields `options.hops` times (default 2), as a request that waits for its
 * I/O and is re-entered when it completes, then returns how often it ran.
 */
import { defineWorkload } from "coropool";

export default defineWorkload({
  coroutines({ thread, options }) {
    const count = Number(options.coroutines ?? 64);
    const hops = Number(options.hops ?? 2);
    return Array.from({ length: count }, (_, index) => ({ thread, index, hops }));
  },

  *coroutine({ hops }) {
    let entered = 1;
    for (let i = 0; i < hops; i++) {
      yield;
      entered++;
    }
    return entered;
  },
});
