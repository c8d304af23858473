/**
 * The coroutine API, checked the way QEMU's tests/unit/test-coroutine.c
 * checks qemu-coroutine.c: lifecycle, yield, nesting, self, entered,
 * in-coroutine, ordering, no dangling access — plus every misuse error,
 * throwing bodies and a throwing StackSource, with exact stack counts.
 */
import { describe, expect, it } from 'vitest';
import {
  CoroutineContext,
  CoroutineError,
  CoroutineErrorCode,
  LEADER_ID,
  type Coroutine,
} from '../src/coroutine/index.js';
import { CountingStackSource } from "./helpers/counting-stack-source.js";

/** Depth of the nesting test, as MAX_NEST_DEPTH in QEMU's test. */
const MAX_NEST_DEPTH = 1000;
/** Yields of the yield test, as yield_5_times in QEMU's test. */
const YIELD_COUNT = 5;


function setup(): { source: CountingStackSource; ctx: CoroutineContext } {
  const source = new CountingStackSource();
  return { source, ctx: new CoroutineContext(source) };
}

/** Run `fn`, expect a CoroutineError, and return it for code and message checks. */
function catchCoroutineError(fn: () => void): CoroutineError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CoroutineError);
    return error as CoroutineError;
  }
  throw new Error('expected a CoroutineError, nothing was thrown');
}

/** The context's counters and the fixture's must agree at every quiet point. */
function expectBalanced(ctx: CoroutineContext, source: CountingStackSource): void {
  expect(ctx.live).toBe(ctx.created - ctx.terminated);
  expect(source.inUse.size).toBe(ctx.live);
  expect(source.acquires).toBe(ctx.created);
  expect(source.releases).toBe(ctx.terminated);
}

describe('lifecycle', () => {
  it('create takes a stack, enter runs to the end, the stack is released exactly once', () => {
    const { source, ctx } = setup();
    const state = { done: false };
    const co = ctx.create(function* (s: { done: boolean }) {
      s.done = true;
    }, state);

    expect(co.state).toBe('created');
    expect(co.isLeader).toBe(false);
    expect(co.stack).toBe(0);
    expect(source.acquires).toBe(1);
    expect(state.done).toBe(false); // nothing runs before enter
    expect([ctx.created, ctx.terminated, ctx.live]).toEqual([1, 0, 1]);

    ctx.enter(co);

    expect(state.done).toBe(true);
    expect(co.state).toBe('terminated');
    expect(source.released).toEqual([0]);
    expect([ctx.created, ctx.terminated, ctx.live]).toEqual([1, 1, 0]);
    expectBalanced(ctx, source);
  });

  it('repeats with no state carried over; the released stack is reused', () => {
    const { source, ctx } = setup();
    for (let round = 1; round <= 2; round++) {
      let done = false;
      const co = ctx.create(function* () {
        done = true;
      });
      expect(co.stack).toBe(0); // the free list gives back the one stack
      expect(co.id).toBe(round);
      ctx.enter(co);
      expect(done).toBe(true);
      expect(co.state).toBe('terminated');
    }
    expect(source.mapped).toBe(1);
    expect([source.acquires, source.releases]).toEqual([2, 2]);
    expect([ctx.created, ctx.terminated, ctx.live]).toEqual([2, 2, 0]);
  });

  it('passes the argument to the entry', () => {
    const { ctx } = setup();
    const seen: number[] = [];
    ctx.enter(ctx.create(function* (n: number) {
      seen.push(n);
    }, 42));
    expect(seen).toEqual([42]);
  });
});

describe('yield', () => {
  it('a coroutine yielding 5 times needs exactly 6 enters; its stack is kept until the end', () => {
    const { source, ctx } = setup();
    let done = false;
    const co = ctx.create(function* () {
      for (let i = 0; i < YIELD_COUNT; i++) yield;
      done = true;
    });
    const slot = co.stack;

    let enters = -1; // one extra enter to return from the coroutine, as in QEMU
    while (!done) {
      ctx.enter(co);
      enters++;
      if (!done) {
        expect(co.state).toBe('suspended');
        expect(co.stack).toBe(slot);
        expect(source.releases).toBe(0);
      }
    }
    expect(enters).toBe(YIELD_COUNT);
    expect(co.state).toBe('terminated');
    expect(source.released).toEqual([slot]);
    expectBalanced(ctx, source);
  });

  it('yield* ctx.yieldNow() yields exactly like a plain yield', () => {
    const { source, ctx } = setup();
    let steps = 0;
    const co = ctx.create(function* () {
      for (let i = 0; i < YIELD_COUNT; i++) {
        steps++;
        yield* ctx.yieldNow();
      }
    });
    for (let i = 1; i <= YIELD_COUNT; i++) {
      ctx.enter(co);
      expect(steps).toBe(i);
      expect(co.state).toBe('suspended');
    }
    ctx.enter(co);
    expect(co.state).toBe('terminated');
    expect(source.releases).toBe(1);
  });
});

describe('nesting', () => {
  it(`a coroutine creating and entering another, ${MAX_NEST_DEPTH} deep`, () => {
    const { source, ctx } = setup();
    const nest = { enters: 0, returns: 0, depth: 0, maxDepth: 0, maxLive: 0 };

    function* nested(): Generator<unknown, void, undefined> {
      nest.enters++;
      nest.depth++;
      nest.maxDepth = Math.max(nest.maxDepth, nest.depth);
      nest.maxLive = Math.max(nest.maxLive, ctx.live);
      if (nest.enters < MAX_NEST_DEPTH) ctx.enter(ctx.create(nested));
      nest.depth--;
      nest.returns++;
    }

    ctx.enter(ctx.create(nested));

    expect(nest.enters).toBe(MAX_NEST_DEPTH);
    expect(nest.returns).toBe(MAX_NEST_DEPTH);
    expect(nest.maxDepth).toBe(MAX_NEST_DEPTH);
    expect(nest.maxLive).toBe(MAX_NEST_DEPTH); // every level holds its own stack
    expect(source.mapped).toBe(MAX_NEST_DEPTH);
    expect([ctx.created, ctx.terminated, ctx.live]).toEqual([MAX_NEST_DEPTH, MAX_NEST_DEPTH, 0]);
    expect(new Set(source.released).size).toBe(MAX_NEST_DEPTH);
    expect(ctx.inCoroutine()).toBe(false);
    expectBalanced(ctx, source);
  });

  it('a nested coroutine yields back to the coroutine that entered it', () => {
    const { ctx } = setup();
    const log: string[] = [];
    const inner = ctx.create(function* () {
      log.push('inner 1');
      yield;
      log.push('inner 2');
    });
    ctx.enter(ctx.create(function* () {
      ctx.enter(inner);
      log.push('outer after inner yielded');
      ctx.enter(inner);
      log.push('outer after inner returned');
    }));
    expect(log).toEqual(['inner 1', 'outer after inner yielded', 'inner 2', 'outer after inner returned']);
  });
});

describe('self', () => {
  it('is the running coroutine inside it, the leader outside', () => {
    const { ctx } = setup();
    const seen: Coroutine[] = [];
    const co = ctx.create(function* () {
      seen.push(ctx.self());
      yield;
      seen.push(ctx.self());
    });

    expect(ctx.self()).toBe(ctx.leader);
    ctx.enter(co);
    expect(ctx.self()).toBe(ctx.leader);
    ctx.enter(co);
    expect(seen).toEqual([co, co]);
    expect(ctx.self()).toBe(ctx.leader);
  });

  it('the leader is a non-null pseudo-coroutine without a pool stack', () => {
    const { ctx } = setup();
    const leader = ctx.self();
    expect(leader.isLeader).toBe(true);
    expect(leader.id).toBe(LEADER_ID);
    expect(leader.state).toBe('running');
    const error = catchCoroutineError(() => leader.stack);
    expect(error.code).toBe(CoroutineErrorCode.LEADER_HAS_NO_STACK);
    expect(error.message).toMatch(/leader coroutine runs on the thread's own stack/);
  });

  it('switches to the nested coroutine and back', () => {
    const { ctx } = setup();
    const seen: Array<[string, Coroutine]> = [];
    const outer = ctx.create(function* () {
      const inner = ctx.create(function* () {
        seen.push(['inner', ctx.self()]);
      });
      ctx.enter(inner);
      seen.push(['outer', ctx.self()]);
    });
    ctx.enter(outer);
    expect(seen.map(([who]) => who)).toEqual(['inner', 'outer']);
    expect(seen[0]![1]).not.toBe(outer);
    expect(seen[1]![1]).toBe(outer);
  });
});

describe('entered', () => {
  it('is true on the call chain, false once the coroutine yielded (QEMU test_entered)', () => {
    const { ctx } = setup();
    const checks: string[] = [];

    function* step2(caller: Coroutine): Generator<unknown, void, undefined> {
      expect(ctx.entered(caller)).toBe(true);
      expect(ctx.entered(ctx.self())).toBe(true);
      yield;
      // Once more to check it still works after yielding.
      expect(ctx.entered(caller)).toBe(true);
      expect(ctx.entered(ctx.self())).toBe(true);
      checks.push('step2 done');
    }

    function* step1(): Generator<unknown, void, undefined> {
      const self = ctx.self();
      expect(ctx.entered(self)).toBe(true);
      const co = ctx.create(step2, self);
      expect(ctx.entered(co)).toBe(false);
      ctx.enter(co);
      expect(ctx.entered(co)).toBe(false);
      ctx.enter(co);
      checks.push('step1 done');
    }

    const co = ctx.create(step1);
    expect(ctx.entered(co)).toBe(false);
    ctx.enter(co);
    expect(ctx.entered(co)).toBe(false);
    expect(checks).toEqual(['step2 done', 'step1 done']);
  });

  it('is false for the leader, which is never entered', () => {
    const { ctx } = setup();
    expect(ctx.entered(ctx.leader)).toBe(false);
  });
});

describe('inCoroutine', () => {
  it('is false outside, true inside (also after a yield), false again afterwards', () => {
    const { ctx } = setup();
    const inside: boolean[] = [];
    const co = ctx.create(function* () {
      inside.push(ctx.inCoroutine());
      yield;
      inside.push(ctx.inCoroutine());
    });
    expect(ctx.inCoroutine()).toBe(false);
    ctx.enter(co);
    expect(ctx.inCoroutine()).toBe(false);
    ctx.enter(co);
    expect(ctx.inCoroutine()).toBe(false);
    expect(inside).toEqual([true, true]);
  });
});

describe('order of enter and yield', () => {
  it('matches QEMU test_order exactly', () => {
    const { ctx } = setup();
    const record: Array<[number, number]> = [];
    const co = ctx.create(function* () {
      record.push([2, 1]);
      expect(ctx.inCoroutine()).toBe(true);
      yield;
      record.push([2, 2]);
      expect(ctx.inCoroutine()).toBe(true);
    });
    record.push([1, 1]);
    ctx.enter(co);
    record.push([1, 2]);
    expect(ctx.inCoroutine()).toBe(false);
    ctx.enter(co);
    record.push([1, 3]);
    expect(ctx.inCoroutine()).toBe(false);
    expect(record).toEqual([[1, 1], [2, 1], [1, 2], [2, 2], [1, 3]]);
  });

  it('interleaves two coroutines entered by the leader and by each other', () => {
    const { source, ctx } = setup();
    const log: string[] = [];
    const b = ctx.create(function* () {
      log.push('B enter');
      yield;
      log.push('B resumed');
      yield;
      log.push('B return');
    });
    const a = ctx.create(function* (other: Coroutine) {
      log.push('A enter');
      ctx.enter(other);
      log.push('A after B yield');
      yield;
      log.push('A resumed');
      ctx.enter(other);
      log.push('A after B return');
    }, b);

    log.push('main enter A');
    ctx.enter(a);
    log.push('main after A yield');
    ctx.enter(b); // B's caller is now the leader, not A
    log.push('main after B yield');
    ctx.enter(a);
    log.push('main after A return');

    expect(log).toEqual([
      'main enter A',
      'A enter',
      'B enter',
      'A after B yield',
      'main after A yield',
      'B resumed',
      'main after B yield',
      'A resumed',
      'B return',
      'A after B return',
      'main after A return',
    ]);
    expect([a.state, b.state]).toEqual(['terminated', 'terminated']);
    expect([b.id, a.id]).toEqual([1, 2]);
    // B (slot 0, created first) returns before A (slot 1): released in termination order.
    expect(source.released).toEqual([0, 1]);
  });
});

describe('no access to a terminated coroutine', () => {
  it('a yielded coroutine outlives its terminated caller (QEMU test_no_dangling_access)', () => {
    const { source, ctx } = setup();
    const co2 = ctx.create(function* () {
      yield;
    });
    const co1 = ctx.create(function* (c2: Coroutine) {
      ctx.enter(c2);
    }, co2);

    ctx.enter(co1);
    expect(co1.state).toBe('terminated');
    expect(co2.state).toBe('suspended');

    ctx.enter(co2); // must return to the leader, not to the dead co1
    expect(co2.state).toBe('terminated');
    expect(ctx.self()).toBe(ctx.leader);
    expect(source.released).toEqual([1, 0]);
    expectBalanced(ctx, source);
  });

  it('entering a terminated coroutine throws ERR_COROUTINE_TERMINATED and changes nothing', () => {
    const { source, ctx } = setup();
    const co = ctx.create(function* () {});
    ctx.enter(co);

    const error = catchCoroutineError(() => ctx.enter(co));
    expect(error.code).toBe('ERR_COROUTINE_TERMINATED');
    expect(error.message).toBe(
      `Cannot enter coroutine #${co.id}: it has terminated and its stack went back to the pool. ` +
        'Create a new coroutine instead.',
    );
    expect([source.acquires, source.releases]).toEqual([1, 1]);
    expect([ctx.created, ctx.terminated, ctx.live]).toEqual([1, 1, 0]);
  });

  it('the handle gives no access to the stack once terminated', () => {
    const { ctx } = setup();
    const co = ctx.create(function* () {});
    expect(co.stack).toBe(0);
    ctx.enter(co);
    const error = catchCoroutineError(() => co.stack);
    expect(error.code).toBe(CoroutineErrorCode.TERMINATED);
    expect(error.message).toMatch(/has terminated: its stack slot went back to the pool/);
  });
});

describe('misuse errors', () => {
  it('entering a running coroutine from inside itself: ERR_COROUTINE_REENTERED', () => {
    const { source, ctx } = setup();
    let caught: CoroutineError | undefined;
    const co = ctx.create(function* () {
      caught = catchCoroutineError(() => ctx.enter(ctx.self()));
      yield; // the coroutine is still usable after the refused enter
    });
    ctx.enter(co);
    expect(caught?.code).toBe('ERR_COROUTINE_REENTERED');
    expect(caught?.message).toBe(
      `Co-routine re-entered recursively: coroutine #${co.id} is already running ` +
        '(it is on the current call chain). Enter it again only after it has yielded.',
    );
    expect(co.state).toBe('suspended');
    ctx.enter(co);
    expect(co.state).toBe('terminated');
    expectBalanced(ctx, source);
  });

  it('entering a caller further up the chain: ERR_COROUTINE_REENTERED', () => {
    const { source, ctx } = setup();
    const codes: string[] = [];
    const outer = ctx.create(function* () {
      const inner = ctx.create(function* (caller: Coroutine) {
        codes.push(catchCoroutineError(() => ctx.enter(caller)).code);
      }, ctx.self());
      ctx.enter(inner);
    });
    ctx.enter(outer);
    expect(codes).toEqual([CoroutineErrorCode.REENTERED]);
    expectBalanced(ctx, source);
  });

  it('an uncaught re-enter error terminates the coroutine and releases its stack once', () => {
    const { source, ctx } = setup();
    const co = ctx.create(function* () {
      ctx.enter(ctx.self());
    });
    const error = catchCoroutineError(() => ctx.enter(co));
    expect(error.code).toBe(CoroutineErrorCode.REENTERED);
    expect(co.state).toBe('terminated');
    expect(source.released).toEqual([0]);
    expectBalanced(ctx, source);
  });

  it('entering the leader: ERR_COROUTINE_REENTERED', () => {
    const { ctx } = setup();
    const error = catchCoroutineError(() => ctx.enter(ctx.leader));
    expect(error.code).toBe(CoroutineErrorCode.REENTERED);
    expect(error.message).toMatch(/^Co-routine re-entered recursively: the leader .* cannot be entered/);
  });

  it('yieldNow() outside a coroutine: ERR_COROUTINE_YIELD_OUTSIDE_COROUTINE', () => {
    const { ctx } = setup();
    // A generator using the checked yield, driven by hand instead of by enter().
    function* notACoroutine(): Generator<unknown, void, unknown> {
      yield* ctx.yieldNow();
    }
    const error = catchCoroutineError(() => notACoroutine().next());
    expect(error.code).toBe('ERR_COROUTINE_YIELD_OUTSIDE_COROUTINE');
    expect(error.message).toMatch(/^yield outside coroutine: /);
    expect(catchCoroutineError(() => ctx.yieldNow().next()).code).toBe(CoroutineErrorCode.YIELD_OUTSIDE_COROUTINE);
  });

  it('entering a coroutine of another context: ERR_COROUTINE_WRONG_CONTEXT, nothing runs', () => {
    const { source, ctx } = setup();
    const other = setup();
    let ran = false;
    const co = other.ctx.create(function* () {
      ran = true;
    });
    const error = catchCoroutineError(() => ctx.enter(co));
    expect(error.code).toBe('ERR_COROUTINE_WRONG_CONTEXT');
    expect(error.message).toMatch(/not created by this CoroutineContext/);
    expect(ran).toBe(false);
    expect(co.state).toBe('created');
    expect(source.acquires + source.releases).toBe(0);

    const fake = { id: 7, state: 'created', isLeader: false, stack: 3 } as Coroutine;
    expect(catchCoroutineError(() => ctx.enter(fake)).code).toBe(CoroutineErrorCode.WRONG_CONTEXT);
  });

  it('an entry that is not a generator function: ERR_COROUTINE_INVALID_ENTRY, never run, no stack taken', () => {
    const { source, ctx } = setup();
    let ran = false;
    const plain = (() => {
      ran = true;
    }) as unknown as () => Generator<unknown, void, undefined>;
    const asyncFn = (async () => {
      ran = true;
    }) as unknown as () => Generator<unknown, void, undefined>;
    const asyncGenerator = async function* () {
      ran = true;
    } as unknown as () => Generator<unknown, void, undefined>;
    for (const entry of [plain, asyncFn, asyncGenerator]) {
      const error = catchCoroutineError(() => ctx.create(entry));
      expect(error.code).toBe(CoroutineErrorCode.INVALID_ENTRY);
      expect(error.message).toMatch(/must be a generator function/);
    }
    expect(ran).toBe(false);
    expect(source.acquires).toBe(0);
    expect([ctx.created, ctx.live]).toEqual([0, 0]);
  });

  it('generator methods and bound generator functions are valid entries', () => {
    const { source, ctx } = setup();
    class Device {
      served = 0;
      *serve(): Generator<unknown, void, undefined> {
        this.served++;
      }
    }
    const device = new Device();
    ctx.enter(ctx.create(device.serve.bind(device)));
    expect(device.served).toBe(1);
    expectBalanced(ctx, source);
  });

  it('every error code is distinct and prefixed ERR_COROUTINE_', () => {
    const codes = Object.values(CoroutineErrorCode);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(code).toMatch(/^ERR_COROUTINE_[A-Z_]+$/);
  });
});

describe('a throwing body', () => {
  it('terminates the coroutine, releases its stack once, and the error propagates unchanged', () => {
    const { source, ctx } = setup();
    const boom = new Error('boom');
    const co = ctx.create(function* () {
      yield;
      throw boom;
    });
    ctx.enter(co);
    expect(() => ctx.enter(co)).toThrow(boom);
    expect(co.state).toBe('terminated');
    expect(source.released).toEqual([0]);
    expect(ctx.self()).toBe(ctx.leader);
    expect(catchCoroutineError(() => ctx.enter(co)).code).toBe(CoroutineErrorCode.TERMINATED);
    expect(source.releases).toBe(1);
    expectBalanced(ctx, source);
  });

  it('propagates through an outer coroutine that does not catch it; each stack released once', () => {
    const { source, ctx } = setup();
    const boom = new Error('inner failed');
    let inner: Coroutine | undefined;
    const outer = ctx.create(function* () {
      inner = ctx.create(function* () {
        throw boom;
      });
      ctx.enter(inner);
    });
    expect(() => ctx.enter(outer)).toThrow(boom);
    expect([outer.state, inner?.state]).toEqual(['terminated', 'terminated']);
    expect(source.released).toEqual([1, 0]);
    expect(ctx.inCoroutine()).toBe(false);
    expectBalanced(ctx, source);
  });

  it('an outer coroutine that catches it carries on as itself', () => {
    const { source, ctx } = setup();
    const log: string[] = [];
    const outer = ctx.create(function* () {
      try {
        ctx.enter(ctx.create(function* () {
          throw new Error('inner failed');
        }));
      } catch (error) {
        log.push(`caught ${(error as Error).message}`);
      }
      log.push(`self is outer: ${ctx.self() === outer}`);
      yield;
      log.push('outer resumed');
    });
    ctx.enter(outer);
    expect(outer.state).toBe('suspended');
    expect([ctx.terminated, ctx.live]).toEqual([1, 1]);
    ctx.enter(outer);
    expect(log).toEqual(['caught inner failed', 'self is outer: true', 'outer resumed']);
    expectBalanced(ctx, source);
  });
});

describe('a StackSource that throws on acquire', () => {
  it('propagates the error unchanged; nothing is created and the counters do not move', () => {
    const { source, ctx } = setup();
    ctx.enter(ctx.create(function* () {})); // some history first
    const exhausted = new Error('failed to allocate memory for stack');
    source.failNextAcquire = exhausted;
    let ran = false;

    expect(() =>
      ctx.create(function* () {
        ran = true;
      }),
    ).toThrow(exhausted);

    expect(ran).toBe(false);
    expect([ctx.created, ctx.terminated, ctx.live]).toEqual([1, 1, 0]);
    expect([source.acquires, source.releases]).toEqual([1, 1]);
    expect(ctx.self()).toBe(ctx.leader);

    // The context is still usable, and ids have no gap for the failed create.
    const next = ctx.create(function* () {});
    expect(next.id).toBe(2);
    ctx.enter(next);
    expectBalanced(ctx, source);
  });

  it('inside a coroutine: the creating coroutine sees the error and keeps its own stack until it ends', () => {
    const { source, ctx } = setup();
    const exhausted = new Error('failed to set up stack guard page');
    const outer = ctx.create(function* () {
      source.failNextAcquire = exhausted;
      ctx.create(function* () {});
    });
    expect(() => ctx.enter(outer)).toThrow(exhausted);
    expect([ctx.created, ctx.terminated, ctx.live]).toEqual([1, 1, 0]);
    expect(source.released).toEqual([0]);
    expectBalanced(ctx, source);
  });

  it('an entry whose parameters throw takes no stack', () => {
    const { source, ctx } = setup();
    const destructures = function* ({ n }: { n: number }) {
      yield n;
    };
    expect(() => ctx.create(destructures, undefined as unknown as { n: number })).toThrow(TypeError);
    expect(source.acquires).toBe(0);
    expect(ctx.created).toBe(0);
  });
});
