import { whatIf } from "../../api/whatif.js";
import { InputError } from "../../errors.js";
import { BUNDLED_TRACES, bundledOrPath } from "../../experiments/bundled.js";
import { someAbort } from "../../report/whatif-document.js";
import { formatWhatIf } from "../../report/whatif-text.js";
import { integerFlag, parseCommandArgs, policyListFlag } from "../args.js";
import { commandOutput, REPORT_HELP_LINE, REPORT_OPTION, reportPathFlag, showsProgress } from "../command-output.js";
import { EXIT, type CommandResult } from "../exit.js";
import { Interrupt } from "../interrupt.js";
import { StepProgress } from "../progress.js";
import { POOL_INCREASE_HELP, POOL_INCREASE_OPTIONS, poolIncreaseFlags } from "../log-flags.js";

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
  --policy P[,P...]      compare only these policies, in this order
  --uncapped             with --policy: the policies given run without the hard cap
  --max-map-count M      the limit asked about (default: /proc/sys/vm/max_map_count, else 65530)
  --baseline-vmas B      VMAs the process has besides coroutine stacks (default: this
                         process's /proc/self/maps; for QEMU count its own, e.g.
                         wc -l /proc/$(pidof qemu-system-x86_64)/maps)
${POOL_INCREASE_HELP}
  --json                 print the answer as a versioned JSON document (docs/json.md)
${REPORT_HELP_LINE}
                         here: stacks mapped over the log per policy, the limit line,
                         pooled stacks per thread
  -h, --help             this help

On a terminal, stderr shows how much of the log each pass has read. SIGINT
or SIGTERM stops the reading: the answer for the lines read so far is
printed and the report written, both marked interrupted.

Exit status: 0 every policy completes at M, 3 some policy aborts at M (the
answer is still printed), 2 bad input (a bad line is named by its number),
6 the answer was printed but the report could not be written, 130/143
stopped by SIGINT/SIGTERM (the answer so far printed), 1 internal error.

Examples:
  coropool whatif qemu-7.2-virtio --virtio-blk 4x256,4x256 --max-map-count 65530
  coropool whatif qemu-7.2-virtio --pool-inc 1024 --baseline-vmas 1200 --report whatif.html
  coropool whatif qemu-7.2-virtio --policy legacy,batched --uncapped --json`;

export async function whatIfCommand(argv: string[], interrupt = new Interrupt()): Promise<CommandResult> {
  const { values, positionals } = parseCommandArgs(
    "whatif",
    argv,
    {
      policy: { type: "string" },
      uncapped: { type: "boolean" },
      "max-map-count": { type: "string" },
      "baseline-vmas": { type: "string" },
      json: { type: "boolean" },
      ...REPORT_OPTION,
      ...POOL_INCREASE_OPTIONS,
    },
    1,
  );
  if (values.help) return { stdout: WHATIF_HELP, exitCode: EXIT.OK };
  if (positionals[0] === undefined) throw new InputError("ERR_USAGE", "whatif: missing the LOG; see 'coropool whatif --help'");
  const file = bundledOrPath(BUNDLED_TRACES, positionals[0], "whatif");
  if (values.uncapped && values.policy === undefined) {
    throw new InputError("ERR_USAGE", "whatif: --uncapped needs --policy (the default compares batched both uncapped and capped)");
  }
  // The page never replaces the log it is drawn from.
  const reportPath = reportPathFlag(values.report, [file]);
  const json = values.json === true;
  const progress = new StepProgress(showsProgress(json));
  const signal = interrupt.stopsGracefully();
  const doc = await whatIf(file, {
    policies: values.policy === undefined ? undefined : policyListFlag(values.policy, []),
    uncapped: values.uncapped === true,
    maxMapCount: integerFlag("max-map-count", values["max-map-count"], 1, 0x7fffffff),
    baselineVmas: integerFlag("baseline-vmas", values["baseline-vmas"], 0, 0x7fffffff),
    ...poolIncreaseFlags("whatif", values),
    signal,
    onProgress: progress.onProgress,
  }).finally(() => progress.finish());
  return { ...commandOutput(doc, () => formatWhatIf(doc), json, reportPath, signal), exitCode: someAbort(doc) ? EXIT.VMA_ABORT : EXIT.OK };
}
