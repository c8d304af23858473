import { BUNDLED_TRACES, bundledOrPath } from "../../experiments/bundled.js";
import { InputError } from "../../errors.js";
import { importQemuLog } from "../../replay/import.js";
import { describeLogInput } from "../../report/log-input-text.js";
import { checkOutputPath } from "../../output-file.js";
import { showsProgress } from "../command-output.js";
import { cliDoor } from "../../options/door.js";
import { resolveImportOptions } from "../../options/doors.js";
import { EXIT, type CommandResult } from "../exit.js";
import { flag, flagHelp, readFlags } from "../flag-table.js";
import { Interrupt } from "../interrupt.js";
import { StepProgress } from "../progress.js";
import { POOL_INCREASE_FLAGS } from "../log-flags.js";

const IMPORT_FLAGS = [
  flag("output", "FILE.trace", "the trace to write: a new file (missing folders are made) or a regular file to replace (a symlink is written through); not the log itself", "o"),
  ...POOL_INCREASE_FLAGS,
];

export const IMPORT_HELP = `Usage: coropool import LOG -o FILE.trace [--pool-inc N | --virtio-blk NQxQS,...]

Writes the coropool trace equivalent to a QEMU log (plain or gzip): the same
pool events on the same threads, the pool increase as an 'inc' line, each
event with its time when the log has times (-msg timestamp=on), and comments
saying what the log's threads were. Replaying the trace gives what replaying
the log gives, but for the line numbers. The file is written beside FILE and
renamed over it when complete, so FILE is never half-written, and no
temporary file is left, whatever stops the import. On a terminal, stderr
shows how much of the log is read.

Options:
${flagHelp(IMPORT_FLAGS)}

Exit status: 0 written, 2 bad input (a bad line is named by its number; a
coropool trace is not imported again), 6 FILE could not be written (a full
disk: one line says so and where), 130/143 stopped by SIGINT/SIGTERM (FILE
left as it was), 1 internal error.

Examples:
  coropool import qemu-7.2-virtio -o vm.trace --virtio-blk 4x256,4x256
  coropool replay vm.trace --policy legacy,batched --uncapped`;

export async function importCommand(argv: string[], interrupt = new Interrupt()): Promise<CommandResult> {
  const flags = readFlags("import", argv, IMPORT_FLAGS, 1);
  if (flags.help) return { stdout: IMPORT_HELP, exitCode: EXIT.OK };
  if (flags.positionals[0] === undefined) throw new InputError("ERR_USAGE", "import: missing the QEMU LOG; see 'coropool import --help'");
  const log = bundledOrPath(BUNDLED_TRACES, flags.positionals[0], "import");
  if (flags.output === undefined) throw new InputError("ERR_USAGE", "import: missing -o FILE.trace, the trace to write; see 'coropool import --help'");
  const { poolIncrease } = resolveImportOptions(cliDoor("import"), flags.options);
  const output = checkOutputPath(flags.output, "-o", [log]);
  const progress = new StepProgress(showsProgress(false));
  let summary;
  try {
    summary = await importQemuLog({ path: log }, output, {
      poolIncrease,
      source: log,
      flag: "-o",
      signal: interrupt.stopsGracefully(),
      onProgress: (done, total) => progress.onProgress(done, total, `import ${log}`),
    });
  } finally {
    progress.finish();
  }
  const done = summary.written
    ? `wrote ${output}: ${summary.events} events on ${summary.threads} thread(s)${summary.input.hasTimes ? ", with times" : ""}`
    : `stopped after line ${summary.input.lines}: ${output} was not written (it is as it was)`;
  return { stdout: [...describeLogInput(log, summary.input), done].join("\n"), exitCode: EXIT.OK };
}
