import { InputError } from "../../errors.js";
import { DEFAULT_RANDREAD_POLICIES, DEFAULT_RANDREAD_SCENARIO, runRandread } from "../../experiments/randread.js";
import { runsOf } from "../../experiments/run-scenario.js";
import { toDocument } from "../../report/document.js";
import { formatRandreadReport } from "../../report/text.js";
import type { RandreadScenario } from "../../scenarios/types.js";
import { MAX_BLOCK_SIZE, MAX_DURATION_MS, MAX_IODEPTH, MIN_DURATION_MS, SECTOR_SIZE } from "../../scenarios/validate.js";
import { byteSizeFlag, integerFlag } from "../args.js";
import { REPORT_HELP_LINE } from "../command-output.js";
import { EXIT_HELP, runsVerdict } from "../exit.js";
import { RUNTIME_HELP } from "../runtime-flags.js";
import { scenarioCommand } from "../scenario-command.js";

export const RANDREAD_HELP = `Usage: coropool randread [options]

The seed's benchmark: closed-loop random reads, each request in its own
coroutine (create -> submit -> yield -> completion re-enters -> terminate),
served by polling IOThreads against a device model (latency + size/bandwidth).
Prints IOPS per block size and iodepth for each policy, as the seed's table
(RW BLKSIZE IODEPTH OLD NEW CHANGE when the policies are legacy,batched), with
latency percentiles.

Options:
${RUNTIME_HELP}
  --duration-ms N        how long each cell runs (default: the scenario's)
  --iodepths LIST        e.g. 1,16 (default: the scenario's)
  --block-sizes LIST     e.g. 4k,128k (default: the scenario's)
${REPORT_HELP_LINE}

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
  options: { "duration-ms": { type: "string" }, iodepths: { type: "string" }, "block-sizes": { type: "string" } },
  prepare(scenario, values) {
    return {
      ...scenario,
      durationMs: integerFlag("duration-ms", values["duration-ms"], MIN_DURATION_MS, MAX_DURATION_MS) ?? scenario.durationMs,
      iodepths: listFlag("iodepths", values.iodepths, parseIodepth) ?? scenario.iodepths,
      blockSizes: listFlag("block-sizes", values["block-sizes"], parseBlockSize) ?? scenario.blockSizes,
    };
  },
  async execute(scenario, file, _flags, options) {
    const report = await runRandread(scenario, file, options);
    return { document: toDocument(report), text: () => formatRandreadReport(report), ...runsVerdict(runsOf(report)) };
  },
});

function listFlag<T>(name: string, value: unknown, parse: (s: string, name: string) => T): T[] | undefined {
  if (value === undefined) return undefined;
  const items = String(value).split(",").map((s) => s.trim());
  if (items.some((s) => s === "")) throw new InputError("ERR_USAGE", `bad value for --${name}: '${String(value)}'; give a comma list`);
  const values = items.map((s) => parse(s, name));
  const repeated = values.find((v, i) => values.indexOf(v) !== i);
  if (repeated !== undefined) throw new InputError("ERR_USAGE", `bad value for --${name}: '${String(value)}' gives ${String(repeated)} twice; list each once`);
  return values;
}

function parseIodepth(s: string, name: string): number {
  return integerFlag(name, s, 1, MAX_IODEPTH)!;
}

/** A sector multiple up to 16 MiB, as scenario files allow. */
function parseBlockSize(s: string, name: string): number {
  return byteSizeFlag(name, s, SECTOR_SIZE, MAX_BLOCK_SIZE, "4k or 128k")!;
}
