import { readFileSync } from "node:fs";
import { CoropoolError, InputError } from "../../errors.js";
import { checkRegion } from "../../pools/invariants.js";
import { formatReplaySummary } from "../../replay/format.js";
import { replayTrace, type ReplayOutcome } from "../../replay/replay.js";
import { parseTrace } from "../../replay/trace.js";
import { defaultBaselineVmas, readMaxMapCount } from "../../vma/limits.js";
import { BUNDLED_TRACES } from "../../experiments/bundled.js";
import { POLICY_NAMES } from "../../pools/policy-name.js";
import { integerFlag, parseCommandArgs, POLICY_CHOICES, policyListFlag } from "../args.js";
import { bundledFileArg } from "../bundled-args.js";
import { EXIT, type CommandResult } from "../exit.js";

export const REPLAY_HELP = `Usage: coropool replay FILE --policy P[,P...] [options]

Replays a trace of pool events (threads, inc, dec, create, terminate, exit)
deterministically in one thread and prints what the pool did: stacks created
and freed, what each pool holds, VMAs, and where the replay aborted. FILE is
a trace file's path or a bundled trace's name (imbalance).

Options:
  --policy P[,P...]      ${POLICY_CHOICES}; a comma list runs each in turn
  --max-map-count N      the VMA limit (default: /proc/sys/vm/max_map_count, else 65530)
  --baseline-vmas N      VMAs the rest of the process uses (default: /proc/self/maps)
  --uncapped             batched: no hard cap from max_map_count (what QEMU does in
                         practice, since its parser rejects /proc's trailing newline)
  --json                 print the result as JSON (an array when several policies)
  --check                walk the replay's shared region with the invariant checker at the
                         end: every stack in exactly one place, sizes match lists, VMAs
  -h, --help             this help

Exit status: 0 completed, 3 aborted on VMA exhaustion (result still printed),
2 bad input, 1 internal error.

Examples:
  coropool replay imbalance --policy legacy,batched,none
  coropool replay imbalance --policy batched --max-map-count 3000 --baseline-vmas 1000 --json`;

export function replayCommand(argv: string[]): CommandResult {
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
    },
    1,
  );
  if (values.help) return { stdout: REPLAY_HELP, exitCode: EXIT.OK };
  if (positionals[0] === undefined) throw new InputError("ERR_USAGE", "replay: missing the trace FILE; see 'coropool replay --help'");
  const file = bundledFileArg(BUNDLED_TRACES, positionals[0], "replay");
  if (values.policy === undefined) throw new InputError("ERR_USAGE", `replay: missing --policy; allowed: ${POLICY_NAMES.join(", ")} or a comma list`);
  const policies = policyListFlag(values.policy, []);
  const maxMapCount = integerFlag("max-map-count", values["max-map-count"], 1, 0x7fffffff) ?? readMaxMapCount().value;
  const baselineVmas = integerFlag("baseline-vmas", values["baseline-vmas"], 0, 0x7fffffff) ?? defaultBaselineVmas().value;
  const trace = parseTrace(readTraceFile(file), file);

  const outcomes: ReplayOutcome[] = policies.map((policy) =>
    replayTrace(trace, { policy, maxMapCount, baselineVmas, uncapped: values.uncapped === true }),
  );
  if (values.check) {
    const violations = outcomes.flatMap((o) => checkRegion(o.region, o.result.live).violations.map((v) => `${o.result.policy}: ${v}`));
    if (violations.length > 0) {
      throw new CoropoolError("ERR_INVARIANT", `the invariant checker found ${violations.length} violation(s): ${violations.join("; ")}`);
    }
  }
  const results = outcomes.map((o) => o.result);
  const stdout = values.json
    ? JSON.stringify(results.length === 1 ? results[0] : results)
    : formatReplaySummary(file, outcomes);
  const aborted = results.some((r) => r.failure !== null);
  return { stdout, exitCode: aborted ? EXIT.VMA_ABORT : EXIT.OK };
}

function readTraceFile(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "unknown error";
    throw new InputError("ERR_TRACE", `cannot read trace '${file}': ${code}; give the path of a readable trace file`);
  }
}
