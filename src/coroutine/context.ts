/**
 * CoroutineContext: one per worker thread, like QEMU's per-thread coroutine
 * state. It creates coroutines, enters them, and gives their stacks back to
 * the thread's StackSource when they terminate.
 *
 *   leader (the thread) ──enter──► A ──enter──► B      current = B
 *                       ◄─yield──   ◄──yield──
 *
 * The call chain lives on the JavaScript stack: enter() calls the
 * generator's next(), and a nested enter() inside a body is a nested call.
 * So a `yield` always returns to whoever entered the coroutine this time
 * (its caller), exactly as in QEMU, and the context only has to remember
 * which coroutine is current.
 *
 * Stack ownership: the slot is taken in create() (as qemu_coroutine_create
 * does) and released in terminate(), which runs once per coroutine whether
 * its body returned or threw. A body that throws terminates the coroutine
 * (its generator is finished and cannot be resumed), its stack is released,
 * and the error propagates out of enter() unchanged. A coroutine that is
 * never run to its end keeps its stack, as in QEMU: the counters (`live`)
 * are how a leak shows.
 */
import {
  CREATED,
  LEADER_ID,
  NO_STACK,
  RUNNING,
  SUSPENDED,
  TERMINATED,
  CoroutineRecord,
  createLeader,
  isGeneratorFunction,
  type Coroutine,
  type CoroutineEntry,
} from './coroutine.js';
import {
  enterTerminatedError,
  invalidEntryError,
  leaderEnteredError,
  reenteredError,
  wrongContextError,
  yieldOutsideCoroutineError,
} from './errors.js';
import type { StackSource } from './stack-source.js';

/**
 * %GeneratorPrototype%.next (GeneratorFunction.prototype.prototype.next),
 * called directly rather than as `generator.next()`. Each generator function
 * gives its generators a prototype of their own, so once a thread has entered
 * more than four kinds of coroutine that lookup is megamorphic on every
 * enter; this is one known function whatever the body.
 */
const generatorNext: (this: Generator<unknown, unknown, undefined>) => IteratorResult<unknown, unknown> =
  Object.getPrototypeOf(function* () {}).prototype.next;

export class CoroutineContext {
  /** The thread itself, as a coroutine: what self() returns outside any coroutine. */
  readonly leader: Coroutine;

  private readonly stacks: StackSource;
  private current: CoroutineRecord;
  private lastId: number;
  private createdCount = 0;
  private terminatedCount = 0;

  constructor(stacks: StackSource) {
    this.stacks = stacks;
    const leader = createLeader(this);
    this.leader = leader;
    this.current = leader;
    this.lastId = leader.id;
  }

  /** Coroutines created on this context (create() calls that returned). */
  get created(): number {
    return this.createdCount;
  }

  /** Coroutines that terminated (returned or threw); their stacks were released. */
  get terminated(): number {
    return this.terminatedCount;
  }

  /** Coroutines created and not yet terminated; each holds one stack. */
  get live(): number {
    return this.createdCount - this.terminatedCount;
  }

  /**
   * Create a coroutine that will run `entry(arg)` when first entered.
   * Takes its stack now; if the StackSource throws (e.g. VMA exhaustion)
   * the error propagates unchanged and nothing has been created.
   */
  create(entry: CoroutineEntry<void>): Coroutine;
  create<A>(entry: CoroutineEntry<A>, arg: A): Coroutine;
  create<A>(entry: CoroutineEntry<A>, arg?: A): Coroutine {
    if (!isGeneratorFunction(entry)) throw invalidEntryError();
    // Make the generator before taking the stack: evaluating the entry's
    // parameters (e.g. destructuring `arg`) can throw, and then no stack
    // must have been taken.
    const generator = entry(arg as A);
    const slot = this.stacks.acquireStack();
    this.createdCount++;
    return new CoroutineRecord(this, ++this.lastId, slot, generator);
  }

  /**
   * Run `co` until its next yield or its end. Inside a coroutine this nests:
   * `co` yields back to the coroutine that entered it. If the body ends
   * (returns or throws) the coroutine terminates and its stack goes back to
   * this thread's StackSource; a thrown error then propagates from here.
   */
  enter(co: Coroutine): void {
    const target = co as CoroutineRecord;
    if (target.context !== this || (target.state !== SUSPENDED && target.state !== CREATED)) {
      throw this.enterRejection(target);
    }
    const caller = this.current;
    target.state = RUNNING;
    this.current = target;
    let finished: boolean | undefined;
    try {
      // Not null: only a terminated coroutine or the leader lacks a generator,
      // and the state check above let neither through.
      finished = generatorNext.call(target.generator!).done;
    } catch (error) {
      this.current = caller;
      this.terminate(target);
      throw error;
    }
    this.current = caller;
    if (finished === true) this.terminate(target);
    else target.state = SUSPENDED;
  }

  /**
   * An explicit, checked yield: `yield* ctx.yieldNow()`. Equivalent to a
   * plain `yield` inside a coroutine body, but throws "yield outside
   * coroutine" (ERR_COROUTINE_YIELD_OUTSIDE_COROUTINE) when no coroutine is
   * running on this context — e.g. a generator driven by hand rather than
   * through enter(). It cannot tell a coroutine from a plain generator
   * iterated inside one; it only catches the no-coroutine case QEMU asserts.
   */
  *yieldNow(): Generator<undefined, void, unknown> {
    if (this.current.id === LEADER_ID) throw yieldOutsideCoroutineError();
    yield;
  }

  /** The running coroutine; outside any coroutine, the leader (never null, as in QEMU). */
  self(): Coroutine {
    return this.current;
  }

  /** True while a coroutine (not the leader) is running on this context. */
  inCoroutine(): boolean {
    return this.current.id !== LEADER_ID;
  }

  /**
   * True while `co` has been entered and has not yet yielded or ended, i.e.
   * it is on the current call chain, even if it is waiting on a coroutine it
   * entered (QEMU's qemu_coroutine_entered). The leader is never entered, so
   * this is false for it.
   */
  entered(co: Coroutine): boolean {
    return co.state === RUNNING && !co.isLeader;
  }

  /**
   * Release the stack exactly once. The handle is marked terminated before
   * the StackSource is called, so a release that throws cannot lead to a
   * second one; such an error (a pool bug) propagates out of enter() and, for
   * a body that threw, replaces the body's error.
   */
  private terminate(co: CoroutineRecord): void {
    const slot = co.stackSlot;
    co.state = TERMINATED;
    co.stackSlot = NO_STACK;
    co.generator = null;
    this.terminatedCount++;
    this.stacks.releaseStack(slot);
  }

  /** Kept off the hot path: say why enter() refused. */
  private enterRejection(co: CoroutineRecord): Error {
    if (co.context !== this) return wrongContextError();
    if (co.state === TERMINATED) return enterTerminatedError(co.id);
    if (co.isLeader) return leaderEnteredError();
    return reenteredError(co.id);
  }
}
