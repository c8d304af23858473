import { replayOutcomes } from "../../api/replay.js";
import { InputError } from "../../errors.js";
import { BUNDLED_TRACES, bundledOrPath } from "../../experiments/bundled.js";
import { formatReplaySummary } from "../../replay/format.js";
import type { ReplayOutcome } from "../../replay/replay.js";
import { describeLogInput } from "../../report/log-input-text.js";
import { integerFlag, parseCommandArgs, POLICY_CHOICES, policyListFlag } from "../args.js";
import { POLICY_NAMES } from "../../pools/index.js";
import { EXIT, type CommandResult } from "../exit.js";
import { POOL_INCREASE_HELP, POOL_INCREASE_OPTIONS, poolIncreaseFlags } from "../log-flags.js";

export const REPLAY_HELP = `Usage: coropool replay FILE --policy P[,P...] [options]

Replays a trace of pool events (threads, inc, dec, create, terminate, exit)
or a QEMU log (-trace qemu_aio_coroutine_enter -trace qemu_coroutine_terminate,
with or without -msg timestamp=on; plain or gzip, told by the content)
deterministically in one thread and prints what the pool did: stacks created
and freed, what each pool holds, VMAs, and where the replay aborted. FILE is
a path or a bundled trace's name (imbalance). For a QEMU log the result also
has the peak, and the summary says what its threads are.

Options:
  --policy P[,P...]      ${POLICY_CHOICES}; a comma list runs each in turn
  --max-map-count N      the VMA limit (default: /proc/sys/vm/max_map_count, else 65530)
  --baseline-vmas N      VMAs the rest of the process uses (default: /proc/self/maps)
  --uncapped             batched: no hard cap from max_map_count (what QEMU does in
                         practice, since its parser rejects /proc's trailing newline)
${POOL_INCREASE_HELP}
  --json                 print the result as JSON (an array when several policies)
  --check                walk the replay's shared region with the invariant checker at the
                         end: every stack in exactly one place, sizes match lists, VMAs
  -h, --help             this help

Exit status: 0 completed, 3 aborted on VMA exhaustion (result still printed),
2 bad input (a bad line is named by its number; also a FILE that is not a
regular file, or a line or file past the limits in README "Replay"), 130/143
stopped by SIGINT/SIGTERM, 1 internal error.

Examples:
  coropool replay imbalance --policy legacy,batched,none
  coropool replay imbalance --policy batched --max-map-count 3000 --baseline-vmas 1000 --json
  coropool replay qemu-7.2-virtio --policy legacy,batched --uncapped --virtio-blk 4x256,4x256`;

export async function replayCommand(argv: string[]): Promise<CommandResult> {
  const { values, positionals } = parseCommandArgs(
    "replay",
    argv,
    {
      policy: { type: "string" },
      "max-map-count": { type: "string" },
      "baseline-vmas": { type: "string" },
      uncapped: { type: "boolean" },
      json: { type: "boolean" },
      check: { type: "boolean" },
      ...POOL_INCREASE_OPTIONS,
    },
    1,
  );
  if (values.help) return { stdout: REPLAY_HELP, exitCode: EXIT.OK };
  if (positionals[0] === undefined) throw new InputError("ERR_USAGE", "replay: missing the trace FILE; see 'coropool replay --help'");
  const file = bundledOrPath(BUNDLED_TRACES, positionals[0], "replay");
  if (values.policy === undefined) throw new InputError("ERR_USAGE", `replay: missing --policy; allowed: ${POLICY_NAMES.join(", ")} or a comma list`);
  const policies = policyListFlag(values.policy, []);
  const { source, input, outcomes } = await replayOutcomes(file, {
    policies,
    maxMapCount: integerFlag("max-map-count", values["max-map-count"], 1, 0x7fffffff),
    baselineVmas: integerFlag("baseline-vmas", values["baseline-vmas"], 0, 0x7fffffff),
    uncapped: values.uncapped === true,
    check: values.check === true,
    ...poolIncreaseFlags("replay", values),
  });
  const results = outcomes.map((o) => o.result);
  let stdout: string;
  if (values.json) stdout = JSON.stringify(results.length === 1 ? results[0] : results);
  else if (input.qemu === null) stdout = formatReplaySummary(source, outcomes);
  else stdout = [...describeLogInput(source, input), "", formatReplaySummary(source, outcomes), ...peakLines(outcomes)].join("\n");
  const aborted = results.some((r) => r.failure !== null);
  return { stdout, exitCode: aborted ? EXIT.VMA_ABORT : EXIT.OK };
}

/** "legacy: peak 1095 stacks (3190 VMAs) at line 48210 (12.345 s)". */
function peakLines(outcomes: ReplayOutcome[]): string[] {
  return outcomes.map(({ result, peak }) => {
    const when = peak.line === 0 ? "no stack was mapped" : `at line ${peak.line}${peak.seconds === null ? "" : ` (${peak.seconds.toFixed(3)} s)`}`;
    return `${result.policy}: peak ${peak.stacks} stacks (${peak.vmas} VMAs) ${when}`;
  });
}
