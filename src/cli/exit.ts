/** The exit statuses every command shares. */
export const EXIT = {
  OK: 0,
  INTERNAL: 1,
  BAD_INPUT: 2,
  VMA_ABORT: 3,
} as const;

/**
 * The status a set of runs earns: a worker that died is an internal failure
 * (1), else a VMA-exhaustion abort is 3, else 0.
 */
export function exitCodeFor(runs: { completed: boolean; deadThreads: unknown[] }[]): number {
  if (runs.some((r) => r.deadThreads.length > 0)) return EXIT.INTERNAL;
  return runs.every((r) => r.completed) ? EXIT.OK : EXIT.VMA_ABORT;
}

/** What a command produced: printed whole at the end, so nothing is half-written. */
export interface CommandResult {
  stdout: string;
  exitCode: number;
}
