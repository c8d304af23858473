/**
 * The rules of an imbalance file: one thread bursts, then goes quiet while the
 * others keep needing coroutines. Beyond the schema: the bursting thread is
 * one of the threads.
 */
import {
  COROUTINES,
  DESCRIPTION,
  kindFile,
  MAX_MAP_COUNT,
  MAX_THREADS,
  ROUNDS,
  SEED,
  belowThreads,
} from "../common-fields.js";
import { integer, optional, required } from "../field-rules.js";
import { MAX_DEVICES, MAX_NUM_QUEUES, MAX_QUEUE_SIZE } from "../guest.js";

/** imbalance needs the bursting thread and at least one other. */
export const MIN_IMBALANCE_THREADS = 2;
/** The most a guest's devices can add to the pool size (MAX_DEVICES of the largest device). */
export const MAX_POOL_SIZE_INCREASE = (MAX_DEVICES * MAX_NUM_QUEUES * MAX_QUEUE_SIZE) / 2;
export const DEFAULT_IMBALANCE_ROUNDS = 10;
export const DEFAULT_BURST_THREAD = 0;
export const DEFAULT_POOL_SIZE_INCREASE = 0;

/** What the guest's devices add to the pool size, for kinds that name no devices of their own. */
export const POOL_SIZE_INCREASE = optional(
  integer(0, MAX_POOL_SIZE_INCREASE),
  DEFAULT_POOL_SIZE_INCREASE,
  "Added to the pool size before the run, as devices would (a virtio-blk device adds numQueues × queueSize / 2).",
);

const BURST_THREAD = belowThreads(0, (threads) => `an integer from 0 to ${threads - 1} (less than threads, ${threads})`);

export const IMBALANCE_FILE = kindFile(
  "imbalance",
  "imbalance: one thread has a burst of coroutines in flight and completes them, then goes quiet while the others run rounds.",
  {
    description: DESCRIPTION,
    threads: required(
      integer(MIN_IMBALANCE_THREADS, MAX_THREADS, {
        allowed: `an integer from ${MIN_IMBALANCE_THREADS} to ${MAX_THREADS} (the bursting thread and at least one other)`,
      }),
      "Worker threads: the bursting thread and at least one other.",
    ),
    burstThread: optional(BURST_THREAD, DEFAULT_BURST_THREAD, "The thread that bursts, less than threads."),
    burst: required(COROUTINES, "Coroutines the bursting thread has in flight at once, before it goes quiet."),
    rounds: optional(ROUNDS, DEFAULT_IMBALANCE_ROUNDS, "Rounds each other thread runs afterwards."),
    inFlight: required(COROUTINES, "Coroutines each other thread has in flight per round."),
    poolSizeIncrease: POOL_SIZE_INCREASE,
    maxMapCount: MAX_MAP_COUNT,
    seed: SEED,
  },
);
