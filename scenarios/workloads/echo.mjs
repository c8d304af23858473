/**
 * An example custom workload for coropool's `custom` scenario (see
 * scenarios/custom-example.json and scenarios/README.md).
 *
 * A workload module's default export is an object with:
 *   - `coroutines({ thread, threads, options, seed })`: the argument of each
 *     coroutine this thread creates (an array, or any iterable). It runs once
 *     per worker thread, before any coroutine is created.
 *   - `*coroutine(arg)`: a generator function, the body of each coroutine.
 *     Every `yield` gives the thread back to the runner, which enters the
 *     other coroutines in turn and re-enters this one later (as an IOThread
 *     re-enters a request when its I/O completes). Its return value is the
 *     coroutine's result.
 * The runner creates all of a thread's coroutines (each takes a stack from
 * the pool), enters each, and keeps re-entering those that yielded until all
 * have ended (each gives its stack back).
 */

const DEFAULT_COROUTINES = 8;
const DEFAULT_HOPS = 1;

export default {
  coroutines({ thread, options }) {
    const count = options.coroutines ?? DEFAULT_COROUTINES;
    const hops = options.hops ?? DEFAULT_HOPS;
    return Array.from({ length: count }, (_, index) => ({ thread, index, hops }));
  },

  /** Yields `hops` times, then returns "<thread>:<index>:<hops made>". */
  *coroutine({ thread, index, hops }) {
    let made = 0;
    while (made < hops) {
      yield;
      made++;
    }
    return `${thread}:${index}:${made}`;
  },
};
