import { join } from "node:path";
import { InputError } from "../../errors.js";
import type { PolicyName } from "../../pools/policy-name.js";
import { projectRoot } from "../../project-root.js";
import type { RunResult } from "../../runtime/result.js";
import { Runtime } from "../../runtime/runtime.js";
import { formatBlockSize, planRandread, randreadCases, randreadFigures, type RandreadCase, type RandreadFigures } from "../../scenarios/randread/plan.js";
import type { RandreadScenario } from "../../scenarios/types.js";
import { loadScenarioFile, MAX_BLOCK_SIZE, SECTOR_SIZE } from "../../scenarios/validate.js";
import { commandOutput, REPORT_HELP_LINE, REPORT_OPTION, reportPathFlag } from "../../report/command-output.js";
import { toDocument } from "../../report/document.js";
import { byteSizeFlag, integerFlag, parseCommandArgs } from "../args.js";
import { EXIT, exitCodeFor, type CommandResult } from "../exit.js";
import { formatTable } from "../output.js";
import { ProgressBar } from "../progress.js";
import { RUNTIME_HELP, RUNTIME_OPTIONS, runtimeFlags, runtimeOptionsFor, type RuntimeFlags } from "../runtime-flags.js";

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

Default scenario: scenarios/randread.json. Default policies: legacy,batched.

Examples:
  coropool randread
  coropool randread --iodepths 1,32 --duration-ms 200 --json
  coropool randread --report reports/randread.html`;

export const DEFAULT_RANDREAD_SCENARIO = "scenarios/randread.json";

export interface RandreadCell extends RandreadCase {
  policy: PolicyName;
  figures: RandreadFigures;
  run: RunResult;
}

export interface RandreadReport {
  command: "randread";
  scenarioFile: string;
  scenario: RandreadScenario;
  policies: PolicyName[];
  cells: RandreadCell[];
}

export async function randreadCommand(argv: string[]): Promise<CommandResult> {
  const { values } = parseCommandArgs(
    "randread",
    argv,
    { ...RUNTIME_OPTIONS, ...REPORT_OPTION, "duration-ms": { type: "string" }, iodepths: { type: "string" }, "block-sizes": { type: "string" } },
    0,
  );
  if (values.help) return { stdout: RANDREAD_HELP, exitCode: EXIT.OK };
  const flags = runtimeFlags(values, ["legacy", "batched"]);
  const file = flags.scenario ?? join(projectRoot(), DEFAULT_RANDREAD_SCENARIO);
  const loaded = loadScenarioFile(file);
  if (loaded.kind !== "randread") {
    throw new InputError("ERR_USAGE", `randread: the scenario is of kind '${loaded.kind}'; randread needs kind 'randread' (or use 'coropool run FILE')`);
  }
  const scenario: RandreadScenario = {
    ...loaded,
    threads: flags.threads ?? loaded.threads,
    seed: flags.seed ?? loaded.seed,
    durationMs: integerFlag("duration-ms", values["duration-ms"], 10, 600_000) ?? loaded.durationMs,
    iodepths: listFlag("iodepths", values.iodepths, parseIodepth) ?? loaded.iodepths,
    blockSizes: listFlag("block-sizes", values["block-sizes"], parseBlockSize) ?? loaded.blockSizes,
  };
  const reportPath = reportPathFlag(values.report);
  const report = await runRandread(file, scenario, flags);
  return {
    stdout: commandOutput(toDocument(report), () => formatRandreadReport(report), flags.json, reportPath),
    exitCode: exitCodeFor(report.cells.map((c) => c.run)),
  };
}

/**
 * Runs every cell under every policy, the policies interleaved cell by cell
 * so that drift on this shared machine hits them alike. One runtime (worker
 * pool) per policy serves all its cells.
 */
export async function runRandread(file: string, scenario: RandreadScenario, flags: RuntimeFlags): Promise<RandreadReport> {
  const runtimes = new Map(flags.policies.map((p) => [p, new Runtime(runtimeOptionsFor(flags, p, scenario.threads, null))]));
  const cases = randreadCases(scenario);
  const bar = new ProgressBar("randread", cases.length * runtimes.size, !flags.json && process.stdout.isTTY === true);
  const cells: RandreadCell[] = [];
  try {
    for (const c of cases) {
      for (const [policy, runtime] of runtimes) {
        const run = await runtime.run(planRandread(scenario, c));
        cells.push({ ...c, policy, figures: randreadFigures(run), run });
        bar.update(cells.length);
      }
    }
  } finally {
    bar.finish();
    await Promise.all([...runtimes.values()].map((r) => r.close()));
  }
  return { command: "randread", scenarioFile: file, scenario, policies: flags.policies, cells };
}

export function formatRandreadReport(report: RandreadReport): string {
  const { scenario, policies } = report;
  const seedTable = policies.length === 2 && policies[0] === "legacy" && policies[1] === "batched";
  const header = seedTable ? ["RW", "BLKSIZE", "IODEPTH", "OLD", "NEW", "CHANGE"] : ["RW", "BLKSIZE", "IODEPTH", ...policies.map((p) => p.toUpperCase())];
  const latencyHeader = ["BLKSIZE", "IODEPTH", ...policies.flatMap((p) => [`${p} p50`, "p90", "p99", "p99.9"])];
  const rows: (string | number)[][] = [];
  const latencyRows: (string | number)[][] = [];
  for (const c of randreadCases(scenario)) {
    const cells = policies.map((p) => report.cells.find((x) => x.policy === p && x.blockSize === c.blockSize && x.iodepth === c.iodepth)!);
    const iops = cells.map((x) => Math.round(x.figures.iops));
    const row: (string | number)[] = ["randread", formatBlockSize(c.blockSize), c.iodepth, ...iops];
    if (seedTable) row.push(formatChange(iops[0]!, iops[1]!));
    rows.push(row);
    latencyRows.push([
      formatBlockSize(c.blockSize),
      c.iodepth,
      ...cells.flatMap((x) => [x.figures.latencyUs.p50, x.figures.latencyUs.p90, x.figures.latencyUs.p99, x.figures.latencyUs.p999].map((us) => us.toFixed(1))),
    ]);
  }
  const device = `device model: ${scenario.device.latencyUs} us latency, ${scenario.device.bandwidthMBps} MB/s; ${scenario.threads} IOThread(s), ${scenario.durationMs} ms per cell`;
  const label = seedTable ? "OLD = legacy pool, NEW = batched pool (coropool's own runs, not the seed's figures)" : "";
  return [formatTable(header, rows), label, device, "", "completion latency percentiles (us; HDR histogram, 3 significant digits):", formatTable(latencyHeader, latencyRows)].filter((l) => l !== "").join("\n");
}

/** "+3.3%" as the seed's table writes it. */
export function formatChange(old: number, now: number): string {
  if (old === 0) return "n/a";
  const pct = ((now - old) / old) * 100;
  return `${pct >= 0 ? "+" : ""}${pct.toFixed(1)}%`;
}

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
  return integerFlag(name, s, 1, 1024)!;
}

/** A sector multiple up to 16 MiB, as scenario files allow. */
function parseBlockSize(s: string, name: string): number {
  return byteSizeFlag(name, s, SECTOR_SIZE, MAX_BLOCK_SIZE, "4k or 128k")!;
}
