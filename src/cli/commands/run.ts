import { DEFAULT_BURST_IDLE_POLICIES } from "../../experiments/burst-idle.js";
import { DEFAULT_CUSTOM_POLICIES } from "../../experiments/custom.js";
import { runScenario, runsOf } from "../../experiments/run-scenario.js";
import { toDocument } from "../../report/document.js";
import { formatScenarioReport } from "../../report/text.js";
import { customTotal } from "../../scenarios/custom/summary.js";
import { EXIT, EXIT_HELP, runsVerdict } from "../exit.js";
import { flag, flagHelp, hiddenFlag } from "../flag-table.js";
import { runtimeFlagsWithout } from "../runtime-flags.js";
import { scenarioCommand } from "../scenario-command.js";

/** The scenario is the argument; --scenario is read only to say so. */
const RUN_FLAGS = [...runtimeFlagsWithout("scenario"), flag("allowFailures"), flag("report"), hiddenFlag("scenario", "FILE")];

export const RUN_HELP = `Usage: coropool run SCENARIO [options]

Runs any scenario by its kind: vma-exhaustion, imbalance, randread,
custom (your own module of generator-based coroutines, run on N threads), or
burst-idle (bursts, a quiet period, then load on other threads). SCENARIO is
a bundled scenario's name (bug-report, stress-small, imbalance, randread,
custom-example, burst-idle) or the path of a scenario file (JSON; described
in scenarios/README.md).

Options:
${flagHelp(RUN_FLAGS)}

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
  flags: RUN_FLAGS,
  // burst-idle compares QEMU 9.0's pool with the one that gives idle stacks back.
  policiesFor: (scenario) => (scenario.kind === "burst-idle" ? DEFAULT_BURST_IDLE_POLICIES : undefined),
  async execute(scenario, file, options, flags) {
    const report = await runScenario(scenario, file, options);
    const runs = runsOf(report);
    // Coroutine bodies that threw are the workload's failures: a status of their own unless allowed.
    const failed = report.command === "run" && !flags.allowFailures ? runs.reduce((n, r) => n + customTotal(r, "failed"), 0) : 0;
    const verdict = runsVerdict(runs, failed);
    const stderr = verdict.stderr ?? (verdict.exitCode === EXIT.COROUTINES_FAILED ? `${failed} coroutine bod${failed === 1 ? "y" : "ies"} threw (each one is in the result); --allow-failures exits 0 for that` : undefined);
    return { document: toDocument(report), text: () => formatScenarioReport(report), exitCode: verdict.exitCode, ...(stderr ? { stderr } : {}) };
  },
});
