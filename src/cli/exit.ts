/** The exit statuses every command shares. */
export const EXIT = {
  OK: 0,
  INTERNAL: 1,
  BAD_INPUT: 2,
  VMA_ABORT: 3,
} as const;

/** What a command produced: printed whole at the end, so nothing is half-written. */
export interface CommandResult {
  stdout: string;
  exitCode: number;
}
