/**
 * Errors for misuse of the coroutine API.
 *
 * QEMU aborts on these (e.g. "Co-routine re-entered recursively"); here they
 * are thrown, each with a stable `code` that callers and tests can match on
 * and a message that says what went wrong and what to do instead.
 */

import { CoropoolError } from '../errors.js';

/** Stable error codes; match on these, never on the message text. */
export const CoroutineErrorCode = {
  /** enter() on a coroutine that is already on the current call chain. */
  REENTERED: 'ERR_COROUTINE_REENTERED',
  /** enter() on, or stack access of, a coroutine that has terminated. */
  TERMINATED: 'ERR_COROUTINE_TERMINATED',
  /** yieldNow() while no coroutine is running on this context. */
  YIELD_OUTSIDE_COROUTINE: 'ERR_COROUTINE_YIELD_OUTSIDE_COROUTINE',
  /** enter() with a handle that was not created by this context. */
  WRONG_CONTEXT: 'ERR_COROUTINE_WRONG_CONTEXT',
  /** create() with an entry that is not a generator function. */
  INVALID_ENTRY: 'ERR_COROUTINE_INVALID_ENTRY',
  /** Stack access on the leader, which runs on the thread's own stack. */
  LEADER_HAS_NO_STACK: 'ERR_COROUTINE_LEADER_HAS_NO_STACK',
} as const;

export type CoroutineErrorCode = (typeof CoroutineErrorCode)[keyof typeof CoroutineErrorCode];

/** Misuse of the coroutine API; one of the project's coded errors. */
export class CoroutineError extends CoropoolError {
  override readonly name = 'CoroutineError';
  declare readonly code: CoroutineErrorCode;

  constructor(code: CoroutineErrorCode, message: string) {
    super(code, message);
  }
}

// The factories below are only reached on error paths, so the hot paths in
// context.ts stay free of message formatting.

export function reenteredError(id: number): CoroutineError {
  return new CoroutineError(
    CoroutineErrorCode.REENTERED,
    `Co-routine re-entered recursively: coroutine #${id} is already running ` +
      `(it is on the current call chain). Enter it again only after it has yielded.`,
  );
}

export function leaderEnteredError(): CoroutineError {
  return new CoroutineError(
    CoroutineErrorCode.REENTERED,
    'Co-routine re-entered recursively: the leader (the thread itself) is always running ' +
      'and cannot be entered. To return to it, yield from the coroutine.',
  );
}

export function enterTerminatedError(id: number): CoroutineError {
  return new CoroutineError(
    CoroutineErrorCode.TERMINATED,
    `Cannot enter coroutine #${id}: it has terminated and its stack went back to the pool. ` +
      'Create a new coroutine instead.',
  );
}

export function stackOfTerminatedError(id: number): CoroutineError {
  return new CoroutineError(
    CoroutineErrorCode.TERMINATED,
    `Coroutine #${id} has terminated: its stack slot went back to the pool and may already ` +
      'belong to another coroutine. Read the stack only while the coroutine is live.',
  );
}

export function yieldOutsideCoroutineError(): CoroutineError {
  return new CoroutineError(
    CoroutineErrorCode.YIELD_OUTSIDE_COROUTINE,
    'yield outside coroutine: yieldNow() was reached while no coroutine is running on this ' +
      'context. Only a coroutine body (entered with enter()) can yield.',
  );
}

export function wrongContextError(): CoroutineError {
  return new CoroutineError(
    CoroutineErrorCode.WRONG_CONTEXT,
    'This coroutine was not created by this CoroutineContext. Enter a coroutine only through ' +
      'the context (one per thread) that created it, so its stack goes back to the right pool.',
  );
}

export function invalidEntryError(): CoroutineError {
  return new CoroutineError(
    CoroutineErrorCode.INVALID_ENTRY,
    'A coroutine entry must be a generator function (function* (arg) { ... }); ' +
      'a plain or async function cannot yield back to the caller.',
  );
}

export function leaderHasNoStackError(): CoroutineError {
  return new CoroutineError(
    CoroutineErrorCode.LEADER_HAS_NO_STACK,
    'The leader coroutine runs on the thread\'s own stack and owns no pool stack slot. ' +
      'Check `isLeader` before reading `stack`.',
  );
}
