import { dirname, resolve } from "node:path";
import { InputError } from "../../errors.js";
import type { RunResult } from "../../runtime/result.js";
import type { CustomPart, CustomPartResult } from "../../scenarios/custom/part.js";
import { loadWorkload } from "../../scenarios/custom/workload.js";
import type { CustomScenario } from "../../scenarios/types.js";
import { loadScenarioFile } from "../../scenarios/validate.js";
import { commandOutput, REPORT_HELP_LINE, REPORT_OPTION, reportPathFlag } from "../../report/command-output.js";
import { toDocument, type ResultDocument } from "../../report/document.js";
import { parseCommandArgs } from "../args.js";
import { EXIT, exitCodeFor, type CommandResult } from "../exit.js";
import { formatTable } from "../output.js";
import { customSummaryRows, flatRows, troubleLines } from "../../report/summary-rows.js";
import { runPlanUnderPolicies } from "../run-policies.js";
import { RUNTIME_HELP, RUNTIME_OPTIONS, runtimeFlags, runtimeOptionsFor, type RuntimeFlags } from "../runtime-flags.js";
import { formatImbalanceReport, runImbalance } from "./imbalance.js";
import { formatRandreadReport, runRandread } from "./randread.js";
import { formatStressReport, runStress } from "./stress.js";

export const RUN_HELP = `Usage: coropool run SCENARIO.json [options]

Runs any scenario file by its kind: vma-exhaustion, imbalance, randread, or
custom (your own module of generator-based coroutines, run on N threads).
Scenario files are described in scenarios/README.md.

Options:
${RUNTIME_HELP.replace(/\n  --scenario FILE[^\n]*/, "")}
${REPORT_HELP_LINE}

Default policies: legacy,batched.

Examples:
  coropool run scenarios/custom-example.json --policy legacy,batched,none
  coropool run scenarios/stress-small.json --json
  coropool run scenarios/custom-example.json --report reports/custom.html`;

export interface CustomReport {
  command: "run";
  scenarioFile: string;
  scenario: CustomScenario;
  runs: RunResult[];
}

export async function runCommand(argv: string[]): Promise<CommandResult> {
  const { values, positionals } = parseCommandArgs("run", argv, { ...RUNTIME_OPTIONS, ...REPORT_OPTION }, 1);
  if (values.help) return { stdout: RUN_HELP, exitCode: EXIT.OK };
  const file = positionals[0];
  if (file === undefined) throw new InputError("ERR_USAGE", "run: missing the SCENARIO file; see 'coropool run --help'");
  if (values.scenario !== undefined) throw new InputError("ERR_USAGE", "run: give the scenario as the argument, not with --scenario");
  const flags = runtimeFlags(values, ["legacy", "batched"]);
  const scenario = loadScenarioFile(file);
  const withSeed = flags.seed === undefined ? scenario : { ...scenario, seed: flags.seed };
  const threadsFlagUnsupported = () => new InputError("ERR_USAGE", `run: --threads does not apply to kind '${scenario.kind}'; edit the scenario file`);
  const reportPath = reportPathFlag(values.report);
  let doc: ResultDocument;
  let text: () => string;
  let exitCode: number;
  switch (withSeed.kind) {
    case "vma-exhaustion": {
      if (flags.threads !== undefined) throw threadsFlagUnsupported();
      const report = await runStress(file, withSeed, flags);
      [doc, text, exitCode] = [toDocument(report), () => formatStressReport(report), exitCodeFor(report.runs)];
      break;
    }
    case "imbalance": {
      const report = await runImbalance(file, { ...withSeed, threads: flags.threads ?? withSeed.threads }, flags);
      [doc, text, exitCode] = [toDocument(report), () => formatImbalanceReport(report), exitCodeFor(report.runs)];
      break;
    }
    case "randread": {
      const report = await runRandread(file, { ...withSeed, threads: flags.threads ?? withSeed.threads }, flags);
      [doc, text, exitCode] = [toDocument(report), () => formatRandreadReport(report), exitCodeFor(report.cells.map((c) => c.run))];
      break;
    }
    case "custom": {
      const report = await runCustom(file, { ...withSeed, threads: flags.threads ?? withSeed.threads }, flags);
      [doc, text, exitCode] = [toDocument(report), () => formatCustomReport(report), exitCodeFor(report.runs)];
      break;
    }
  }
  return { stdout: commandOutput(doc, text, flags.json, reportPath), exitCode };
}

/** The module path is relative to the scenario file. */
export async function runCustom(file: string, scenario: CustomScenario, flags: RuntimeFlags): Promise<CustomReport> {
  const modulePath = resolve(dirname(file), scenario.module);
  await loadWorkload(modulePath); // bad modules are refused here, before any worker starts
  const part: CustomPart = { kind: "custom", modulePath, options: scenario.options, seed: scenario.seed };
  const runs = await runPlanUnderPolicies(
    "custom",
    flags.policies,
    (policy) => runtimeOptionsFor(flags, policy, scenario.threads, scenario.maxMapCount),
    { parts: Array.from({ length: scenario.threads }, () => part), poolSizeIncrease: 0, progressUnits: scenario.threads },
    !flags.json,
  );
  const setup = runs.flatMap((r) => (r.parts as (CustomPartResult | null)[]).map((p, t) => ({ t, error: p?.setupError })).filter((x) => x.error));
  if (setup.length > 0) {
    throw new InputError("ERR_WORKLOAD", `custom workload '${modulePath}': coroutines() failed on T${setup[0]!.t}: ${setup[0]!.error}; it must return an iterable of arguments`);
  }
  return { command: "run", scenarioFile: file, scenario, runs };
}

export function formatCustomReport(report: CustomReport): string {
  const { runs, scenario } = report;
  const rows = flatRows(customSummaryRows(runs));
  const lines = [`custom: ${scenario.module} on ${scenario.threads} thread(s)`, formatTable(["", ...runs.map((r) => r.policy)], rows)];
  for (const r of runs) {
    (r.parts as (CustomPartResult | null)[]).forEach((p, t) =>
      p?.failures.forEach((f) => lines.push(`${r.policy}: T${t} coroutine ${f.index} threw: ${f.message}`)));
  }
  lines.push(...troubleLines(runs));
  return lines.join("\n");
}
