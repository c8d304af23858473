/**
 * The rules of a burst-idle file: some threads burst, the process goes quiet
 * for a while, then the other threads work. Beyond the schema: at least one
 * thread bursts and at least one takes the later load.
 */
import { COROUTINES, DESCRIPTION, kindFile, MAX_MAP_COUNT, MAX_THREADS, ROUNDS, SEED, belowThreads } from "../common-fields.js";
import { integer, optional, required } from "../field-rules.js";
import { POOL_SIZE_INCREASE } from "../imbalance/rules.js";

/** A thread that bursts and one that works afterwards. */
export const MIN_BURST_IDLE_THREADS = 2;
/**
 * The quiet period's longest: well under the runtime's barrier timeout
 * (60 s), which every thread waits at while the period lasts.
 */
export const MAX_QUIET_MS = 30_000;
export const DEFAULT_BURST_THREADS = 1;
export const DEFAULT_BURSTS = 3;
export const DEFAULT_QUIET_MS = 1000;
export const DEFAULT_BURST_IDLE_ROUNDS = 20;

const BURST_THREADS = belowThreads(1, (threads) => `an integer from 1 to ${threads - 1} (fewer than threads, ${threads}: at least one thread takes the later load)`);

export const BURST_IDLE_FILE = kindFile(
  "burst-idle",
  "burst-idle: threads 0 .. burstThreads-1 have bursts of coroutines in flight, then every thread stays quiet for quietMs, then the other threads run rounds: what each pool still keeps mapped after the burst.",
  {
    description: DESCRIPTION,
    threads: required(
      integer(MIN_BURST_IDLE_THREADS, MAX_THREADS, {
        allowed: `an integer from ${MIN_BURST_IDLE_THREADS} to ${MAX_THREADS} (bursting threads and at least one other)`,
      }),
      "Worker threads: the bursting ones first, then those that take the later load.",
    ),
    burstThreads: optional(BURST_THREADS, DEFAULT_BURST_THREADS, "How many threads burst (threads 0 .. burstThreads-1), fewer than threads."),
    burst: required(COROUTINES, "Coroutines each bursting thread has in flight at once, per burst."),
    bursts: optional(ROUNDS, DEFAULT_BURSTS, "Bursts each bursting thread has, one after another."),
    quietMs: optional(integer(0, MAX_QUIET_MS), DEFAULT_QUIET_MS, "How long every thread then stays quiet (no coroutine runs), in ms."),
    rounds: optional(ROUNDS, DEFAULT_BURST_IDLE_ROUNDS, "Rounds each other thread runs after the quiet period."),
    inFlight: required(COROUTINES, "Coroutines each other thread has in flight per round."),
    poolSizeIncrease: POOL_SIZE_INCREASE,
    maxMapCount: MAX_MAP_COUNT,
    seed: SEED,
  },
);
