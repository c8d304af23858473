import { InputError } from "../../errors.js";
import { DEFAULT_BURST_IDLE_POLICIES } from "../../experiments/burst-idle.js";
import { DEFAULT_CUSTOM_POLICIES } from "../../experiments/custom.js";
import { runScenario, runsOf } from "../../experiments/run-scenario.js";
import { toDocument } from "../../report/document.js";
import { formatScenarioReport } from "../../report/text.js";
import { REPORT_HELP_LINE } from "../command-output.js";
import { exitCodeFor } from "../exit.js";
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
${REPORT_HELP_LINE}

Default policies: legacy,batched (burst-idle: batched,elastic).

Examples:
  coropool run custom-example --policy legacy,batched,none
  coropool run stress-small --json
  coropool run custom-example --report reports/custom.html`;

export const runCommand = scenarioCommand({
  name: "run",
  help: RUN_HELP,
  defaultPolicies: DEFAULT_CUSTOM_POLICIES,
  prepare(scenario, values, flags) {
    // burst-idle compares QEMU 9.0's pool with the one that gives idle stacks back.
    if (scenario.kind === "burst-idle" && values.policy === undefined) flags.policies = DEFAULT_BURST_IDLE_POLICIES;
    return scenario;
  },
  async execute(scenario, file, flags, options) {
    if (scenario.kind === "vma-exhaustion" && flags.threads !== undefined) {
      throw new InputError("ERR_USAGE", `run: --threads does not apply to kind '${scenario.kind}'; edit the scenario file`);
    }
    if (scenario.kind === "imbalance") checkImbalanceThreads(flags);
    const report = await runScenario(scenario, file, options);
    return { document: toDocument(report), text: () => formatScenarioReport(report), exitCode: exitCodeFor(runsOf(report)) };
  },
});
