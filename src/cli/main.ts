import { CoropoolError, InputError } from "../errors.js";
import { escapeControls } from "../message-text.js";
import { demoCommand, DEMO_HELP } from "./commands/demo.js";
import { imbalanceCommand, IMBALANCE_HELP } from "./commands/imbalance.js";
import { stressCommand, STRESS_HELP } from "./commands/stress.js";
import { randreadCommand, RANDREAD_HELP } from "./commands/randread.js";
import { runCommand, RUN_HELP } from "./commands/run.js";
import { replayCommand, REPLAY_HELP } from "./commands/replay.js";
import { importCommand, IMPORT_HELP } from "./commands/import.js";
import { whatIfCommand, WHATIF_HELP } from "./commands/whatif.js";
import { reportCommand, REPORT_HELP } from "./commands/report.js";
import { shownArg } from "./args.js";
import { EXIT, EXIT_HELP, type CommandResult } from "./exit.js";
import { Interrupt, interruptedStatus } from "./interrupt.js";
import { writePendingReport } from "./command-output.js";
import { REPORT_WRITE_FAILED } from "../report/write.js";
import { packageVersion } from "./version.js";

/** A command: its arguments, and the signals it may stop gracefully on (interrupt.stopsGracefully()). */
type Command = (argv: string[], interrupt: Interrupt) => CommandResult | Promise<CommandResult>;

const COMMANDS: Record<string, { run: Command; help: string }> = {
  demo: { run: demoCommand, help: DEMO_HELP },
  replay: { run: replayCommand, help: REPLAY_HELP },
  whatif: { run: whatIfCommand, help: WHATIF_HELP },
  import: { run: importCommand, help: IMPORT_HELP },
  stress: { run: stressCommand, help: STRESS_HELP },
  imbalance: { run: imbalanceCommand, help: IMBALANCE_HELP },
  randread: { run: randreadCommand, help: RANDREAD_HELP },
  run: { run: runCommand, help: RUN_HELP },
  report: { run: reportCommand, help: REPORT_HELP },
};

const MAIN_HELP = `Usage: coropool COMMAND [options]

Reproduces, measures and fixes coroutine-pool VMA exhaustion (QEMU's legacy
per-thread pools vs the batched pool of QEMU 9.0).

Commands:
  demo      the main job: the bug report (legacy aborts, batched survives), imbalance, randread
  replay    replay a trace of pool events or a QEMU log deterministically
  whatif    a QEMU log from your VM under every pool policy: peak, aborts, smallest safe max_map_count
  import    write the coropool trace equivalent to a QEMU log
  stress    the vma-exhaustion scenario (the seed's bug report by default)
  imbalance one thread bursts then goes quiet while others need coroutines
  randread  the seed's fio-like benchmark: IOPS and latency, OLD vs NEW
  run       any scenario file, including custom workload modules
  report    render a saved --json result as a self-contained HTML page

Options:
  --version  print coropool's version
  --help     this help

Run 'coropool COMMAND --help' for a command's options and examples.

${EXIT_HELP}`;

/**
 * Runs one command line; never throws. Returns the exit status. The results
 * go out first; a report is written after them, so a report that cannot be
 * written never costs the results (one line on stderr, EXIT.REPORT_FAILED).
 */
export async function main(argv: string[], out = process.stdout, err = process.stderr, interrupt = new Interrupt()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    // Bad input like any other: one line on stderr, nothing on stdout.
    err.write(`coropool: missing the COMMAND; allowed: ${Object.keys(COMMANDS).join(", ")}; see 'coropool --help'\n`);
    return EXIT.BAD_INPUT;
  }
  if (name === "--help" || name === "-h" || name === "help") {
    out.write(MAIN_HELP + "\n");
    return EXIT.OK;
  }
  if (name === "--version") {
    out.write(packageVersion() + "\n");
    return EXIT.OK;
  }
  const command = COMMANDS[name];
  if (!command) {
    err.write(`coropool: unknown command '${shownArg(name)}'; allowed: ${Object.keys(COMMANDS).join(", ")}\n`);
    return EXIT.BAD_INPUT;
  }
  try {
    const result = await command.run(rest, interrupt);
    out.write(result.stdout.endsWith("\n") ? result.stdout : result.stdout + "\n");
    if (result.stderr !== undefined) err.write(`coropool: ${escapeControls(result.stderr)}\n`);
    let exitCode = result.exitCode;
    if (result.report !== undefined) {
      const failure = writePendingReport(result.report, out);
      if (failure !== null) {
        err.write(`coropool: ${escapeControls(failure)}\n`);
        exitCode = EXIT.REPORT_FAILED;
      }
    }
    const signal = interrupt.received;
    if (signal === null) return exitCode;
    err.write(`coropool: interrupted by ${signal}: the results so far are printed${result.report ? ", the report marked interrupted" : ""}\n`);
    return interruptedStatus(signal);
  } catch (e) {
    // Each error is one line, whatever text from the user or the system it quotes.
    if (e instanceof InputError) {
      err.write(`coropool: ${escapeControls(e.message)}\n`);
      return EXIT.BAD_INPUT;
    }
    if (e instanceof CoropoolError && e.code === REPORT_WRITE_FAILED) {
      err.write(`coropool: ${escapeControls(e.message)}\n`);
      return EXIT.REPORT_FAILED;
    }
    const detail = e instanceof CoropoolError ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e);
    err.write(`coropool: internal error: ${escapeControls(detail)}\n`);
    return EXIT.INTERNAL;
  }
}
