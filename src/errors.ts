/**
 * Errors with stable codes. The CLI maps them to exit statuses: bad input is
 * exit 2, a VMA-exhaustion abort is exit 3, anything else is an internal error.
 */
export class CoropoolError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = "CoropoolError";
    this.code = code;
  }
}

/** Something the user supplied is wrong: a flag, a file, a trace line. */
export class InputError extends CoropoolError {
  constructor(code: string, message: string) {
    super(code, message);
    this.name = "InputError";
  }
}

/** QEMU's two abort messages, word for word. */
export const STACK_ALLOC_FAILED = "failed to allocate memory for stack";
export const GUARD_PAGE_FAILED = "failed to set up stack guard page";
export type VmaFailureMessage = typeof STACK_ALLOC_FAILED | typeof GUARD_PAGE_FAILED;

/**
 * Mapping a stack would pass the VMA limit. In QEMU this is abort(); here it
 * unwinds to whoever runs the workload, which ends the run the same way.
 */
export class VmaExhaustedError extends CoropoolError {
  readonly vmaMessage: VmaFailureMessage;

  /** `cause`: the failed system call, when the stack was a real mapping. */
  constructor(message: VmaFailureMessage, cause?: Error) {
    super(message === STACK_ALLOC_FAILED ? "ERR_STACK_ALLOC" : "ERR_GUARD_PAGE", message);
    if (cause) this.cause = cause;
    this.name = "VmaExhaustedError";
    this.vmaMessage = message;
  }
}
