import { CoropoolError, InputError } from "../errors.js";
import { escapeControls } from "../message-text.js";
import { shownArg } from "./args.js";
import { EXIT, EXIT_HELP, finalStatus, type CommandResult } from "./exit.js";
import { Interrupt, interruptedStatus } from "./interrupt.js";
import { writePendingOutputs, writePendingReport } from "./command-output.js";
import { REPORT_WRITE_FAILED } from "../report/write.js";
import { packageVersion } from "./version.js";

/** A command: its arguments, and the signals it may stop gracefully on (interrupt.stopsGracefully()). */
type Command = (argv: string[], interrupt: Interrupt) => CommandResult | Promise<CommandResult>;

/**
 * Each command is loaded when it is asked for: loading them all (the
 * runtime, piscina, ajv, the report) took some 0.15 s of every start, a
 * replay's included (`--version`: 0.28 s then, 0.10 s now).
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  demo: async () => (await import("./commands/demo.js")).demoCommand,
  replay: async () => (await import("./commands/replay.js")).replayCommand,
  whatif: async () => (await import("./commands/whatif.js")).whatIfCommand,
  plan: async () => (await import("./commands/plan.js")).planCommand,
  import: async () => (await import("./commands/import.js")).importCommand,
  stress: async () => (await import("./commands/stress.js")).stressCommand,
  imbalance: async () => (await import("./commands/imbalance.js")).imbalanceCommand,
  randread: async () => (await import("./commands/randread.js")).randreadCommand,
  run: async () => (await import("./commands/run.js")).runCommand,
  report: async () => (await import("./commands/report.js")).reportCommand,
  watch: async () => (await import("./commands/watch.js")).watchCommand,
};

const MAIN_HELP = `Usage: coropool COMMAND [options]

Reproduces, measures and fixes coroutine-pool VMA exhaustion (QEMU's legacy
per-thread pools vs the batched pool of QEMU 9.0).

Commands:
  demo      the main job: the bug report (legacy aborts, batched survives), imbalance, randread
  replay    replay a trace of pool events or a QEMU log deterministically
  whatif    a QEMU log from your VM under every pool policy: peak, aborts, smallest safe max_map_count
  plan      a VM's configuration (command line, libvirt XML, running QEMU): worst case and safe max_map_count per policy
  import    write the coropool trace equivalent to a QEMU log
  stress    the vma-exhaustion scenario (the seed's bug report by default)
  imbalance one thread bursts then goes quiet while others need coroutines
  randread  the seed's fio-like benchmark: IOPS and latency, OLD vs NEW
  run       any scenario file, including custom workload modules
  report    render a saved --json result as a self-contained HTML page
  watch     the QEMU processes running on this host: VMAs, coroutine stacks, headroom, live

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
  const load = COMMANDS[name];
  if (!load) {
    err.write(`coropool: unknown command '${shownArg(name)}'; allowed: ${Object.keys(COMMANDS).join(", ")}\n`);
    return EXIT.BAD_INPUT;
  }
  try {
    const command = await load();
    const result = await command(rest, interrupt);
    if (result.stdout !== "" || result.endsOnSignal !== true) out.write(result.stdout.endsWith("\n") ? result.stdout : result.stdout + "\n");
    if (result.stderr !== undefined) err.write(`coropool: ${escapeControls(result.stderr)}\n`);
    const outputFailure = await writePendingOutputs(result.outputs ?? [], out);
    if (outputFailure !== null) err.write(`coropool: ${escapeControls(outputFailure)}\n`);
    const reportFailure = result.report === undefined ? null : await writePendingReport(result.report, out);
    if (reportFailure !== null) err.write(`coropool: ${escapeControls(reportFailure)}\n`);
    const failure = outputFailure ?? reportFailure;
    const signal = result.endsOnSignal === true ? null : interrupt.received;
    if (signal !== null) err.write(`coropool: interrupted by ${signal}: the results so far are printed${result.report ? ", the report marked interrupted" : ""}\n`);
    return finalStatus(result.exitCode, failure !== null, signal === null ? null : interruptedStatus(signal));
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
