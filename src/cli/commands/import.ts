import { accessSync, constants, lstatSync, renameSync, rmSync, statSync, type Stats } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { BUNDLED_TRACES, bundledOrPath } from "../../experiments/bundled.js";
import { InputError } from "../../errors.js";
import { cliDoor } from "../../options/door.js";
import { resolveImportOptions } from "../../options/doors.js";
import { importQemuLog } from "../../replay/import.js";
import { describeLogInput } from "../../report/log-input-text.js";
import { shownArg } from "../args.js";
import { EXIT, type CommandResult } from "../exit.js";
import { flag, flagHelp, readFlags } from "../flag-table.js";
import { POOL_INCREASE_FLAGS } from "../log-flags.js";

const IMPORT_FLAGS = [flag("output", "FILE.trace", "the trace to write (a new file, or a regular file to replace; not the log itself)", "o"), ...POOL_INCREASE_FLAGS];

export const IMPORT_HELP = `Usage: coropool import LOG -o FILE.trace [--pool-inc N | --virtio-blk NQxQS,...]

Writes the coropool trace equivalent to a QEMU log (plain or gzip): the same
pool events on the same threads, the pool increase as an 'inc' line, each
event with its time when the log has times (-msg timestamp=on), and comments
saying what the log's threads were. Replaying the trace gives what replaying
the log gives, but for the line numbers. The file is written beside FILE and
renamed over it when complete, so FILE is never half-written.

Options:
${flagHelp(IMPORT_FLAGS)}

Exit status: 0 written, 2 bad input (a bad line is named by its number; a
coropool trace is not imported again), 6 the trace could not be written
(nothing is left behind), 130/143 stopped by SIGINT/SIGTERM (nothing is
written, nothing left behind), 1 internal error.

Examples:
  coropool import qemu-7.2-virtio -o vm.trace --virtio-blk 4x256,4x256
  coropool replay vm.trace --policy legacy,batched --uncapped`;

export async function importCommand(argv: string[]): Promise<CommandResult> {
  const flags = readFlags("import", argv, IMPORT_FLAGS, 1);
  if (flags.help) return { stdout: IMPORT_HELP, exitCode: EXIT.OK };
  if (flags.positionals[0] === undefined) throw new InputError("ERR_USAGE", "import: missing the QEMU LOG; see 'coropool import --help'");
  const log = bundledOrPath(BUNDLED_TRACES, flags.positionals[0], "import");
  if (flags.output === undefined) throw new InputError("ERR_USAGE", "import: missing -o FILE.trace, the trace to write; see 'coropool import --help'");
  const { poolIncrease } = resolveImportOptions(cliDoor("import"), flags.options);
  const output = checkedOutput(flags.output, log);
  const temporary = join(dirname(output), `.${basename(output)}.${process.pid}.tmp`);
  let summary;
  try {
    summary = await importQemuLog({ path: log }, temporary, { poolIncrease, source: log });
    checkedOutput(flags.output, log);
    renameSync(temporary, output);
  } finally {
    rmSync(temporary, { force: true });
  }
  const lines = [
    ...describeLogInput(log, summary.input),
    `wrote ${output}: ${summary.events} events on ${summary.threads} thread(s)${summary.input.hasTimes ? ", with times" : ""}`,
  ];
  return { stdout: lines.join("\n"), exitCode: EXIT.OK };
}

/**
 * The absolute output path, when it may be written: its folder exists, and
 * it is not there yet or is a regular file that is not the log itself.
 */
function checkedOutput(value: string, log: string): string {
  const path = resolve(value);
  const refuse = (why: string) => new InputError("ERR_USAGE", `cannot write -o '${shownArg(value)}': ${why}; give a new file or a regular file to replace`);
  const folder = statOrNull(dirname(path), statSync);
  if (folder === null || !folder.isDirectory()) throw refuse(`its folder '${shownArg(dirname(path))}' does not exist`);
  if (!writable(dirname(path))) throw refuse(`its folder '${shownArg(dirname(path))}' is not writable`);
  const existing = statOrNull(path, lstatSync);
  if (existing === null) return path;
  if (!existing.isFile()) throw refuse("it exists and is not a regular file");
  const input = statOrNull(log, statSync);
  if (input !== null && input.dev === existing.dev && input.ino === existing.ino) throw refuse("it is the log being imported");
  return path;
}

function writable(folder: string): boolean {
  try {
    accessSync(folder, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function statOrNull(path: string, stat: (p: string) => Stats): Stats | null {
  try {
    return stat(path);
  } catch {
    return null;
  }
}
