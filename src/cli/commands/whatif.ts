import { whatIfAt } from "../../api/whatif.js";
import { InputError } from "../../errors.js";
import { BUNDLED_TRACES, bundledOrPath } from "../../experiments/bundled.js";
import { cliDoor } from "../../options/door.js";
import { someAbort } from "../../report/whatif-document.js";
import { formatWhatIf } from "../../report/whatif-text.js";
import { commandOutput, reportPathFlag, showsProgress } from "../command-output.js";
import { EXIT, type CommandResult } from "../exit.js";
import { flag, flagHelp, readFlags } from "../flag-table.js";
import { Interrupt } from "../interrupt.js";
import { StepProgress } from "../progress.js";
import { LOG_LIMIT_FLAGS, POOL_INCREASE_FLAGS } from "../log-flags.js";

const WHATIF_FLAGS = [
  flag("policies", "P[,P...]", "compare only these policies, in this order"),
  flag("uncapped", undefined, "with --policy: the policies given run without the hard cap"),
  ...LOG_LIMIT_FLAGS,
  ...POOL_INCREASE_FLAGS,
  flag("json", undefined, "print the answer as a versioned JSON document (docs/json.md)"),
  flag("report", "FILE.html", "also write a self-contained HTML page after the answer is printed: stacks mapped over the log per policy, the limit line, pooled stacks per thread; FILE must be a regular file or a new path (a symlink is written through), never the LOG"),
];

export const WHATIF_HELP = `Usage: coropool whatif LOG [options]

Answers, for a QEMU log from your own VM (-trace qemu_aio_coroutine_enter
-trace qemu_coroutine_terminate -D LOG [-msg timestamp=on]; plain or gzip) or
a coropool trace: under each pool policy, how many coroutine stacks and VMAs
it needs at the peak, how many stay mapped at the end, whether it aborts at
a given vm.max_map_count and where (line, and time when the log has times),
the smallest max_map_count that keeps it alive (exact: the least limit at
which the replay completes), and the global-lock acquisitions.

Policies by default: legacy (QEMU up to 8.2), batched (uncapped) (QEMU 9.0+
as it runs on Linux), batched (with the hard cap, as QEMU 9.0 meant it),
none, and any other policy this build has.

Options:
${flagHelp(WHATIF_FLAGS)}

On a terminal, stderr shows how much of the log each pass has read. SIGINT
or SIGTERM stops the reading: the answer for the lines read so far is
printed and the report written, both marked interrupted.

Exit status: 0 every policy completes at M, 3 some policy aborts at M (the
answer is still printed), 2 bad input (a bad line is named by its number),
6 the answer was printed but the report could not be written, 130/143
stopped by SIGINT/SIGTERM (the rows so far printed, the report marked
interrupted), 1 internal error.

Examples:
  coropool whatif qemu-7.2-virtio --virtio-blk 4x256,4x256 --max-map-count 65530
  coropool whatif qemu-7.2-virtio --pool-inc 1024 --baseline-vmas 1200 --report whatif.html
  coropool whatif qemu-7.2-virtio --policy legacy,batched --uncapped --json`;

export async function whatIfCommand(argv: string[], interrupt = new Interrupt()): Promise<CommandResult> {
  const flags = readFlags("whatif", argv, WHATIF_FLAGS, 1);
  if (flags.help) return { stdout: WHATIF_HELP, exitCode: EXIT.OK };
  if (flags.positionals[0] === undefined) throw new InputError("ERR_USAGE", "whatif: missing the LOG; see 'coropool whatif --help'");
  const file = bundledOrPath(BUNDLED_TRACES, flags.positionals[0], "whatif");
  // The page never replaces the log it is drawn from.
  const reportPath = reportPathFlag(flags.report, [file]);
  const progress = new StepProgress(showsProgress(flags.json));
  const signal = interrupt.stopsGracefully();
  const doc = await whatIfAt(cliDoor("whatif"), file, { ...flags.options, signal, onProgress: progress.onProgress }).finally(() => progress.finish());
  return { ...commandOutput(doc, () => formatWhatIf(doc), flags.json, reportPath, signal), exitCode: someAbort(doc) ? EXIT.VMA_ABORT : EXIT.OK };
}
