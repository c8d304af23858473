import { InputError } from "../../errors.js";
import { DEFAULT_BURST_IDLE_POLICIES } from "../../experiments/burst-idle.js";
import { DEFAULT_CUSTOM_POLICIES } from "../../experiments/custom.js";
import { runScenario, runsOf } from "../../experiments/run-scenario.js";
import { toDocument } from "../../report/document.js";
import { formatScenarioReport } from "../../report/text.js";
import { REPORT_HELP_LINE } from "../command-output.js";
import { customTotal } from "../../scenarios/custom/summary.js";
import { EXIT, EXIT_HELP, runsVerdict } from "../exit.js";
import { checkImbalanceThreads, RUNTIME_HELP } from "../runtime-flags.js";
import { scenarioCommand } from "../scenario-command.js";

export const RUN_HELP = `Usage: coropool run SCENARIO [options]

Runs any scenario by its kind: vma-exhaustion, imbalance, randread,
custom (your own module of generator-based coroutines, run on N threads), or
burst-idle (bursts, a quiet period, then load on other threads). SCENARIO is
a bundled scenario's name (bug-report, stress-small, imbalance, randread,
custom-example, burst-idle) or the path of a scenario file (JSON; described
in scenarios/README.md).

Options:
${RUNTIME_HELP.replace(/\n  --scenario NAME\|FILE[^\n]*\n[^\n]*/, "")}
  --allow-failures       custom workloads: exit 0 even when coroutine bodies threw (each
                         failure is still listed); without it such a run exits 4
${REPORT_HELP_LINE}

Default policies: legacy,batched (burst-idle: batched,elastic).

${EXIT_HELP}

Examples:
  coropool run custom-example --policy legacy,batched,none
  coropool run stress-small --json
  coropool run custom-example --report reports/custom.html`;

export const runCommand = scenarioCommand({
  name: "run",
  help: RUN_HELP,
  defaultPolicies: DEFAULT_CUSTOM_POLICIES,
  options: { "allow-failures": { type: "boolean" } },
  prepare(scenario, values, flags) {
    // burst-idle compares QEMU 9.0's pool with the one that gives idle stacks back.
    if (scenario.kind === "burst-idle" && values.policy === undefined) flags.policies = DEFAULT_BURST_IDLE_POLICIES;
    return scenario;
  },
  async execute(scenario, file, flags, options, values) {
    if (scenario.kind === "vma-exhaustion" && flags.threads !== undefined) {
      throw new InputError("ERR_USAGE", `run: --threads does not apply to kind '${scenario.kind}'; edit the scenario file`);
    }
    if (scenario.kind === "imbalance") checkImbalanceThreads(flags);
    const report = await runScenario(scenario, file, options);
    const runs = runsOf(report);
    // Coroutine bodies that threw are the workload's failures: a status of their own unless allowed.
    const failed = report.command === "run" && values["allow-failures"] !== true ? runs.reduce((n, r) => n + customTotal(r, "failed"), 0) : 0;
    const verdict = runsVerdict(runs, failed);
    const stderr = verdict.stderr ?? (verdict.exitCode === EXIT.COROUTINES_FAILED ? `${failed} coroutine bod${failed === 1 ? "y" : "ies"} threw (each one is in the result); --allow-failures exits 0 for that` : undefined);
    return { document: toDocument(report), text: () => formatScenarioReport(report), exitCode: verdict.exitCode, ...(stderr ? { stderr } : {}) };
  },
});
