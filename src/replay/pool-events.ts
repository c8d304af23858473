/**
 * The pool events a trace or a log decodes to, delivered in order to a sink.
 *
 * Decoders (the coropool trace parser, the QEMU log parser) resolve names and
 * addresses to dense coroutine ids, so a sink never sees a name: `co` is an
 * index that is live from its create to its terminate and is handed out again
 * afterwards, so arrays indexed by it stay as small as the live set.
 *
 * `line` is the 1-based line of the input the event came from; `time` is its
 * time in microseconds, or NO_TIME when the line has none.
 */
export interface PoolEventSink {
  /** Threads T0..T(count-1) exist; called before any event names a new one. */
  threadsSeen(count: number): void;
  inc(amount: number, line: number, time: number): void;
  dec(amount: number, line: number, time: number): void;
  create(thread: number, co: number, line: number, time: number): void;
  terminate(thread: number, co: number, line: number, time: number): void;
  exit(thread: number, line: number, time: number): void;
  /** A patched QEMU's own pool operation (qemu/patches/), from its trace events; a sink that does not check them leaves it out. */
  poolOperation?(op: PoolOperation, line: number, time: number): void;
}

/** The pool operations a patched QEMU traces: `qemu_coroutine_pool_<kind>`. */
export const POOL_OPERATION_KINDS = ["refill", "hand_over", "take_donated", "donate", "decay", "trim_due"] as const;
export type PoolOperationKind = (typeof POOL_OPERATION_KINDS)[number];

/**
 * One of them: its kind, the thread that logged it (-1 without thread ids)
 * and its fields by name, each a number (accepted, locked and taken are 0 or
 * 1). Every kind carries `global`: the stacks in QEMU's global pool after it.
 */
export interface PoolOperation {
  kind: PoolOperationKind;
  thread: number;
  fields: Readonly<Record<string, number>>;
}

/** The fields each kind carries, as qemu/patches/ writes them in util/trace-events. */
export const POOL_OPERATION_FIELDS: Readonly<Record<PoolOperationKind, readonly string[]>> = {
  refill: ["size", "global"],
  hand_over: ["size", "accepted", "locked", "global"],
  take_donated: ["taken", "global"],
  donate: ["donated", "freed", "locked", "global"],
  decay: ["idle", "freed", "due", "locked", "global"],
  trim_due: ["due", "freed", "global"],
};

/** Whether the operation took QEMU's global pool lock: refills and takes always do; the others say. */
export function tookGlobalLock(op: PoolOperation): boolean {
  return op.kind === "refill" || op.kind === "take_donated" || op.fields.locked === 1;
}

/** The time of a line that carries none. */
export const NO_TIME = -1;

/** Microseconds in a second: times are kept as integer microseconds, QEMU's resolution. */
export const MICROS_PER_SECOND = 1_000_000;

/** One sink for all of `sinks`: the sink itself when it is alone (no loop per event), else a FanOutSink. */
export function sinkForAll(sinks: readonly PoolEventSink[]): PoolEventSink {
  return sinks.length === 1 ? sinks[0]! : new FanOutSink(sinks);
}

/** Several sinks fed the same events in lockstep: one pass over the input for every policy. */
export class FanOutSink implements PoolEventSink {
  constructor(private readonly sinks: readonly PoolEventSink[]) {}

  threadsSeen(count: number): void {
    for (const s of this.sinks) s.threadsSeen(count);
  }
  inc(amount: number, line: number, time: number): void {
    for (const s of this.sinks) s.inc(amount, line, time);
  }
  dec(amount: number, line: number, time: number): void {
    for (const s of this.sinks) s.dec(amount, line, time);
  }
  create(thread: number, co: number, line: number, time: number): void {
    for (const s of this.sinks) s.create(thread, co, line, time);
  }
  terminate(thread: number, co: number, line: number, time: number): void {
    for (const s of this.sinks) s.terminate(thread, co, line, time);
  }
  exit(thread: number, line: number, time: number): void {
    for (const s of this.sinks) s.exit(thread, line, time);
  }
  poolOperation(op: PoolOperation, line: number, time: number): void {
    for (const s of this.sinks) s.poolOperation?.(op, line, time);
  }
}
