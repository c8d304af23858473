import { DEFAULT_IMBALANCE_POLICIES, DEFAULT_IMBALANCE_SCENARIO, runImbalance } from "../../experiments/imbalance.js";
import { toDocument } from "../../report/document.js";
import { formatImbalanceReport } from "../../report/text.js";
import type { ImbalanceScenario } from "../../scenarios/types.js";
import { EXIT_HELP, runsVerdict } from "../exit.js";
import { flag, flagHelp } from "../flag-table.js";
import { RUNTIME_FLAGS } from "../runtime-flags.js";
import { scenarioCommand } from "../scenario-command.js";

const IMBALANCE_FLAGS = [...RUNTIME_FLAGS, flag("report")];

export const IMBALANCE_HELP = `Usage: coropool imbalance [options]

One thread has a burst of coroutines in flight, then goes quiet while the
other threads keep needing coroutines. Shows where the stacks end up: stacks
stranded in the quiet thread's pool, new stacks the busy threads had to map
meanwhile, and how unevenly the per-thread pools are filled (max/mean, Gini).

Options:
${flagHelp(IMBALANCE_FLAGS)}

Default scenario: imbalance. Default policies: legacy,batched,none.

${EXIT_HELP}

Examples:
  coropool imbalance
  coropool imbalance --threads 3 --policy legacy,batched --json
  coropool imbalance --report reports/imbalance.html`;

export const imbalanceCommand = scenarioCommand<ImbalanceScenario>({
  name: "imbalance",
  help: IMBALANCE_HELP,
  kind: "imbalance",
  defaultScenario: DEFAULT_IMBALANCE_SCENARIO,
  defaultPolicies: DEFAULT_IMBALANCE_POLICIES,
  flags: IMBALANCE_FLAGS,
  async execute(scenario, file, options) {
    const report = await runImbalance(scenario, file, options);
    return { document: toDocument(report), text: () => formatImbalanceReport(report), ...runsVerdict(report.runs) };
  },
});
