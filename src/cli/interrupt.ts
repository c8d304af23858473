/**
 * SIGINT and SIGTERM for the command line. A command that runs experiments
 * stops gracefully on the first signal: the run going on is stopped like a
 * timeout (its workers and any kernel-backend child ended, every stack
 * accounted for), the results so far are printed and the report written,
 * marked interrupted, and the process exits 130 (SIGINT) or 143 (SIGTERM).
 * A second signal, or a first one while no such command runs, exits at once
 * with the same status ('exit' handlers still run: a child process is killed).
 */
import { EXIT } from "./exit.js";

export type StopSignal = "SIGINT" | "SIGTERM";
const STOP_SIGNALS: StopSignal[] = ["SIGINT", "SIGTERM"];

/** The exit status of a process stopped by `signal`: 128 + its number, as a shell reports it. */
export function interruptedStatus(signal: StopSignal): number {
  return signal === "SIGINT" ? EXIT.INTERRUPTED_SIGINT : EXIT.INTERRUPTED_SIGTERM;
}

export class Interrupt {
  private readonly controller = new AbortController();
  private graceful = false;
  private receivedSignal: StopSignal | null = null;

  /** The signal the command's experiments stop on; the command then stops gracefully on the first signal. */
  stopsGracefully(): AbortSignal {
    this.graceful = true;
    return this.controller.signal;
  }

  /** The first signal received, or null. */
  get received(): StopSignal | null {
    return this.receivedSignal;
  }

  /** Listens to SIGINT and SIGTERM for this process (the command line only; a library never does). */
  install(): void {
    for (const s of STOP_SIGNALS) process.on(s, () => this.receive(s));
  }

  /** One signal: the first stops a graceful command's runs; any other exits at once. */
  receive(signal: StopSignal): void {
    if (this.receivedSignal !== null || !this.graceful) process.exit(interruptedStatus(this.receivedSignal ?? signal));
    this.receivedSignal = signal;
    this.controller.abort(signal);
  }
}
