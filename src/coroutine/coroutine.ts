/**
 * The coroutine handle: what create() returns and enter() takes.
 *
 * A coroutine is a generator object plus the stack slot it was given at
 * create time. The lifecycle, driven by CoroutineContext:
 *
 *   create ──► created ──enter──► running ──yield──► suspended
 *                                  │   ▲                 │
 *                                  │   └──────enter──────┘
 *                           return or throw
 *                                  ▼
 *                              terminated   (stack released exactly once)
 *
 * "running" means on the current call chain: either executing, or waiting
 * for a coroutine it entered to yield back (QEMU's "entered").
 */
import { leaderHasNoStackError, stackOfTerminatedError } from './errors.js';

export type CoroutineState = 'created' | 'running' | 'suspended' | 'terminated';

/** Named states, so the hot paths compare against constants rather than literals. */
export const CREATED: CoroutineState = 'created';
export const RUNNING: CoroutineState = 'running';
export const SUSPENDED: CoroutineState = 'suspended';
export const TERMINATED: CoroutineState = 'terminated';

/** Stack slot of a coroutine that owns none (the leader, or a terminated coroutine). */
export const NO_STACK = -1;

/** Id of each context's leader; coroutines are numbered from 1. */
export const LEADER_ID = 0;

/**
 * A coroutine body: a generator function taking one argument, as QEMU's
 * `CoroutineEntry` takes one opaque pointer. Yielded and returned values
 * are ignored, as QEMU coroutines return nothing.
 */
export type CoroutineEntry<A> = (arg: A) => Generator<unknown, unknown, undefined>;

/** The read-only view of a coroutine that users hold. */
export interface Coroutine {
  /** Unique within the context (thread) that created it; the leader is 0. */
  readonly id: number;
  readonly state: CoroutineState;
  /** True for the thread's leader pseudo-coroutine, which has no pool stack. */
  readonly isLeader: boolean;
  /**
   * The stack slot taken from the StackSource at create time.
   * Throws ERR_COROUTINE_TERMINATED once the coroutine has terminated (the
   * slot may already belong to another coroutine) and
   * ERR_COROUTINE_LEADER_HAS_NO_STACK on the leader.
   */
  readonly stack: number;
}

/**
 * The mutable record behind a Coroutine handle. Only CoroutineContext
 * changes its fields; users see it through the read-only interface.
 * Every field is set in the constructor so all records share one shape.
 */
export class CoroutineRecord implements Coroutine {
  state: CoroutineState;
  stackSlot: number;
  /** Dropped at termination so a handle kept around does not pin the body's closure. */
  generator: Generator<unknown, unknown, undefined> | null;

  constructor(
    readonly context: object,
    readonly id: number,
    stackSlot: number,
    generator: Generator<unknown, unknown, undefined> | null,
  ) {
    this.state = CREATED;
    this.stackSlot = stackSlot;
    this.generator = generator;
  }

  get isLeader(): boolean {
    return this.id === LEADER_ID;
  }

  get stack(): number {
    if (this.stackSlot === NO_STACK) throw this.isLeader ? leaderHasNoStackError() : stackOfTerminatedError(this.id);
    return this.stackSlot;
  }
}

/** The leader runs on the thread's own stack and is always on the call chain. */
export function createLeader(context: object): CoroutineRecord {
  const leader = new CoroutineRecord(context, LEADER_ID, NO_STACK, null);
  leader.state = RUNNING;
  return leader;
}

/** Not a global: JavaScript only exposes it through a generator function's constructor. */
const GeneratorFunction = (function* () {}).constructor;

/**
 * Checked before calling the entry: calling a plain function to "create" the
 * coroutine would already run its body. Generator methods and bound
 * generator functions pass; async generator functions do not. `instanceof`
 * is used because it costs nothing measurable on the create hot path, where
 * Object.getPrototypeOf() cost about 6 ns per create.
 */
export function isGeneratorFunction(entry: unknown): boolean {
  return entry instanceof GeneratorFunction;
}
