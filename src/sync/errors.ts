/**
 * Errors raised by the synchronisation primitives in `src/sync/`.
 *
 * Callers branch on `code`, never on the message: messages may be reworded to be
 * more helpful, codes are part of the public API.
 */

import { CoropoolError } from "../errors.js";

export type SyncErrorCode =
  /** A blocking wait was asked for on the main thread, which must stay responsive. */
  | "ERR_MAIN_THREAD_BLOCK"
  /** `FutexMutex.lock` / `lockAsync` gave up after its timeout. */
  | "ERR_LOCK_TIMEOUT"
  /** `FutexMutex.unlock` was called on a mutex nobody holds. */
  | "ERR_MUTEX_NOT_LOCKED"
  /** `Barrier.arriveAndWait` / `arriveAsync` gave up after its timeout. */
  | "ERR_BARRIER_TIMEOUT"
  /** A constructor or method got an argument that cannot be right (bad index, size, id). */
  | "ERR_SYNC_INVALID_ARGUMENT";

export class SyncError extends CoropoolError {
  declare readonly code: SyncErrorCode;

  constructor(code: SyncErrorCode, message: string) {
    super(code, message);
    this.name = "SyncError";
  }
}

export function mainThreadBlockError(operation: string, alternative: string): SyncError {
  return new SyncError(
    "ERR_MAIN_THREAD_BLOCK",
    `${operation} would block the main thread in Atomics.wait, which would freeze the ` +
      `event loop (and every worker waiting on a reply from it). Use ${alternative} instead.`,
  );
}

export function invalidArgumentError(what: string, got: unknown, expected: string): SyncError {
  return new SyncError("ERR_SYNC_INVALID_ARGUMENT", `${what} must be ${expected}; got ${String(got)}.`);
}
