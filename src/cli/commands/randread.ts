import { DEFAULT_RANDREAD_POLICIES, DEFAULT_RANDREAD_SCENARIO, runRandread } from "../../experiments/randread.js";
import { runsOf } from "../../experiments/run-scenario.js";
import { toDocument } from "../../report/document.js";
import { formatRandreadReport } from "../../report/text.js";
import type { RandreadScenario } from "../../scenarios/types.js";
import { EXIT_HELP, runsVerdict } from "../exit.js";
import { flag, flagHelp } from "../flag-table.js";
import { RUNTIME_FLAGS } from "../runtime-flags.js";
import { scenarioCommand } from "../scenario-command.js";

const RANDREAD_FLAGS = [
  ...RUNTIME_FLAGS,
  flag("durationMs", "N", "how long each cell runs (default: the scenario's)"),
  flag("iodepths", "LIST", "e.g. 1,16 (default: the scenario's)"),
  flag("blockSizes", "LIST", "e.g. 4k,128k (default: the scenario's)"),
  flag("report"),
];

export const RANDREAD_HELP = `Usage: coropool randread [options]

The seed's benchmark: closed-loop random reads, each request in its own
coroutine (create -> submit -> yield -> completion re-enters -> terminate),
served by polling IOThreads against a device model (latency + size/bandwidth).
Prints IOPS per block size and iodepth for each policy, as the seed's table
(RW BLKSIZE IODEPTH OLD NEW CHANGE when the policies are legacy,batched), with
latency percentiles.

Options:
${flagHelp(RANDREAD_FLAGS)}

Default scenario: randread. Default policies: legacy,batched.

${EXIT_HELP}

Examples:
  coropool randread
  coropool randread --iodepths 1,32 --duration-ms 200 --json
  coropool randread --report reports/randread.html`;

export const randreadCommand = scenarioCommand<RandreadScenario>({
  name: "randread",
  help: RANDREAD_HELP,
  kind: "randread",
  defaultScenario: DEFAULT_RANDREAD_SCENARIO,
  defaultPolicies: DEFAULT_RANDREAD_POLICIES,
  flags: RANDREAD_FLAGS,
  prepare(scenario, flags) {
    const { durationMs, iodepths, blockSizes } = flags.options as Partial<Pick<RandreadScenario, "durationMs" | "iodepths" | "blockSizes">>;
    return { ...scenario, durationMs: durationMs ?? scenario.durationMs, iodepths: iodepths ?? scenario.iodepths, blockSizes: blockSizes ?? scenario.blockSizes };
  },
  async execute(scenario, file, options) {
    const report = await runRandread(scenario, file, options);
    return { document: toDocument(report), text: () => formatRandreadReport(report), ...runsVerdict(runsOf(report)) };
  },
});
