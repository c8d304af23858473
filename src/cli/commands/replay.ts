import { replayOutcomes } from "../../api/replay.js";
import { InputError } from "../../errors.js";
import { cliDoor } from "../../options/door.js";
import { formatReplaySummary } from "../../replay/format.js";
import type { ReplayOutcome } from "../../replay/replay.js";
import { describeLogInput } from "../../report/log-input-text.js";
import { EXIT, type CommandResult } from "../exit.js";
import { flag, flagHelp, readFlags } from "../flag-table.js";
import { LOG_LIMIT_FLAGS, POOL_INCREASE_FLAGS } from "../log-flags.js";

const REPLAY_FLAGS = [
  flag("policies", "P[,P...]", "the policies, each in turn (required)"),
  ...LOG_LIMIT_FLAGS,
  flag("uncapped", undefined, "batched: no hard cap from max_map_count (what QEMU does in practice, since its parser rejects /proc's trailing newline)"),
  ...POOL_INCREASE_FLAGS,
  flag("json", undefined, "print the result as JSON (an array when several policies)"),
  flag("check", undefined, "walk the replay's shared region with the invariant checker at the end: every stack in exactly one place, sizes match lists, VMAs"),
];

export const REPLAY_HELP = `Usage: coropool replay FILE --policy P[,P...] [options]

Replays a trace of pool events (threads, inc, dec, create, terminate, exit)
or a QEMU log (-trace qemu_aio_coroutine_enter -trace qemu_coroutine_terminate,
with or without -msg timestamp=on; plain or gzip, told by the content)
deterministically in one thread and prints what the pool did: stacks created
and freed, what each pool holds, VMAs, and where the replay aborted. FILE is
a path or a bundled trace's name (imbalance). For a QEMU log the result also
has the peak, and the summary says what its threads are.

Options:
${flagHelp(REPLAY_FLAGS)}

Exit status: 0 completed, 3 aborted on VMA exhaustion (result still printed),
2 bad input (a bad line is named by its number; also a FILE that is not a
regular file, or a line or file past the limits in README "Replay"), 130/143
stopped by SIGINT/SIGTERM, 1 internal error.

Examples:
  coropool replay imbalance --policy legacy,batched,none
  coropool replay imbalance --policy batched --max-map-count 3000 --baseline-vmas 1000 --json
  coropool replay qemu-7.2-virtio --policy legacy,batched --uncapped --virtio-blk 4x256,4x256`;

export async function replayCommand(argv: string[]): Promise<CommandResult> {
  const flags = readFlags("replay", argv, REPLAY_FLAGS, 1);
  if (flags.help) return { stdout: REPLAY_HELP, exitCode: EXIT.OK };
  const trace = flags.positionals[0];
  if (trace === undefined) throw new InputError("ERR_USAGE", "replay: missing the trace FILE; see 'coropool replay --help'");
  const { source, input, outcomes } = await replayOutcomes(cliDoor("replay"), trace, flags.options);
  const results = outcomes.map((o) => o.result);
  let stdout: string;
  if (flags.json) stdout = JSON.stringify(results.length === 1 ? results[0] : results);
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
