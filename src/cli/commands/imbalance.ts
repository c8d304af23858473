import { join } from "node:path";
import { InputError } from "../../errors.js";
import { projectRoot } from "../../project-root.js";
import type { RunResult } from "../../runtime/result.js";
import { planImbalance, summarizeImbalance, type ImbalanceSummary } from "../../scenarios/imbalance/plan.js";
import type { ImbalanceScenario } from "../../scenarios/types.js";
import { loadScenarioFile } from "../../scenarios/validate.js";
import { commandOutput, REPORT_HELP_LINE, REPORT_OPTION, reportPathFlag } from "../../report/command-output.js";
import { toDocument } from "../../report/document.js";
import { parseCommandArgs } from "../args.js";
import { EXIT, exitCodeFor, type CommandResult } from "../exit.js";
import { formatTable } from "../output.js";
import { flatRows, imbalanceSummaryRows, troubleLines } from "../../report/summary-rows.js";
import { runPlanUnderPolicies } from "../run-policies.js";
import { RUNTIME_HELP, RUNTIME_OPTIONS, runtimeFlags, runtimeOptionsFor, type RuntimeFlags } from "../runtime-flags.js";

export const IMBALANCE_HELP = `Usage: coropool imbalance [options]

One thread has a burst of coroutines in flight, then goes quiet while the
other threads keep needing coroutines. Shows where the stacks end up: stacks
stranded in the quiet thread's pool, new stacks the busy threads had to map
meanwhile, and how unevenly the per-thread pools are filled (max/mean, Gini).

Options:
${RUNTIME_HELP}
${REPORT_HELP_LINE}

Default scenario: scenarios/imbalance.json. Default policies: legacy,batched,none.

Examples:
  coropool imbalance
  coropool imbalance --threads 3 --policy legacy,batched --json
  coropool imbalance --report reports/imbalance.html`;

export const DEFAULT_IMBALANCE_SCENARIO = "scenarios/imbalance.json";

export interface ImbalanceReport {
  command: "imbalance";
  scenarioFile: string;
  scenario: ImbalanceScenario;
  runs: (RunResult & { imbalance: ImbalanceSummary })[];
}

export async function imbalanceCommand(argv: string[]): Promise<CommandResult> {
  const { values } = parseCommandArgs("imbalance", argv, { ...RUNTIME_OPTIONS, ...REPORT_OPTION }, 0);
  if (values.help) return { stdout: IMBALANCE_HELP, exitCode: EXIT.OK };
  const flags = runtimeFlags(values, ["legacy", "batched", "none"]);
  const file = flags.scenario ?? join(projectRoot(), DEFAULT_IMBALANCE_SCENARIO);
  const scenario = imbalanceWithOverrides(loadScenarioFile(file), flags);
  const reportPath = reportPathFlag(values.report);
  const report = await runImbalance(file, scenario, flags);
  return {
    stdout: commandOutput(toDocument(report), () => formatImbalanceReport(report), flags.json, reportPath),
    exitCode: exitCodeFor(report.runs),
  };
}

function imbalanceWithOverrides(loaded: unknown, flags: RuntimeFlags): ImbalanceScenario {
  const s = { ...(loaded as ImbalanceScenario) };
  if (s.kind !== "imbalance") {
    throw new InputError("ERR_USAGE", `imbalance: the scenario is of kind '${s.kind}'; imbalance needs kind 'imbalance' (or use 'coropool run FILE')`);
  }
  if (flags.seed !== undefined) s.seed = flags.seed;
  if (flags.threads !== undefined) {
    if (flags.threads < 2) throw new InputError("ERR_USAGE", `bad value for --threads: '${flags.threads}'; allowed: an integer from 2 to 64 (one thread bursts, the others work)`);
    s.threads = flags.threads;
    if (s.burstThread >= s.threads) s.burstThread = 0;
  }
  return s;
}

export async function runImbalance(file: string, scenario: ImbalanceScenario, flags: RuntimeFlags): Promise<ImbalanceReport> {
  const results = await runPlanUnderPolicies(
    "imbalance",
    flags.policies,
    (policy) => runtimeOptionsFor(flags, policy, scenario.threads, scenario.maxMapCount),
    planImbalance(scenario),
    !flags.json,
  );
  return {
    command: "imbalance",
    scenarioFile: file,
    scenario,
    runs: results.map((r) => ({ ...r, imbalance: summarizeImbalance(scenario, r) })),
  };
}

export function formatImbalanceReport(report: ImbalanceReport): string {
  const { runs, scenario } = report;
  const rows = flatRows(imbalanceSummaryRows(runs));
  const header = `imbalance: ${scenario.threads} threads; T${scenario.burstThread} bursts ${scenario.burst} then goes quiet; the others run ${scenario.rounds} rounds of ${scenario.inFlight}`;
  return [header, formatTable(["", ...runs.map((r) => r.policy)], rows), ...troubleLines(runs)].join("\n");
}
