/**
 * Any scenario by its kind: the experiment that runs it, and the runs its
 * report holds. `coropool run FILE` is this; so is a program's run().
 */
import type { RunResult } from "../runtime/result.js";
import { runBurstIdle, type BurstIdleReport } from "./burst-idle.js";
import type { Scenario } from "../scenarios/types.js";
import { runCustom, type CustomReport } from "./custom.js";
import { runImbalance, type ImbalanceReport } from "./imbalance.js";
import type { ThreadedExperimentOptions } from "./options.js";
import { runRandread, type RandreadReport } from "./randread.js";
import { runStress, type StressReport } from "./stress.js";

/**
 * The report of a scenario of any kind; `command` tells which. `interrupted`
 * (last, true or absent): the options' AbortSignal stopped it, as a signal
 * marks the CLI's document; its runs are those done so far.
 */
export type ScenarioReport = (StressReport | ImbalanceReport | RandreadReport | CustomReport | BurstIdleReport) & { interrupted?: true };

/**
 * Runs `scenario` with the experiment of its kind; the options are resolved
 * and fit the scenario (src/options/: a vma-exhaustion guest takes no
 * `threads`, its IOThreads and main loop set them). With the kernel backend a vma-exhaustion run stays in this process,
 * below the host's limit; for the real abort, see runRealAbort.
 */
export async function runScenario(scenario: Scenario, file: string, options: ThreadedExperimentOptions): Promise<ScenarioReport> {
  const report = await runOfKind(scenario, file, options);
  // Aborted before anything ran too: an empty report must still say why it is empty.
  return options.signal?.aborted ? { ...report, interrupted: true } : report;
}

function runOfKind(scenario: Scenario, file: string, options: ThreadedExperimentOptions): Promise<ScenarioReport> {
  switch (scenario.kind) {
    case "vma-exhaustion": {
      const { threads: _setByTheGuest, ...rest } = options;
      return runStress(scenario, file, rest);
    }
    case "imbalance":
      return runImbalance(scenario, file, options);
    case "randread":
      return runRandread(scenario, file, options);
    case "custom":
      return runCustom(scenario, file, options);
    case "burst-idle":
      return runBurstIdle(scenario, file, options);
  }
}

/** Every run a report holds (a randread report holds one per cell). */
export function runsOf(report: ScenarioReport): RunResult[] {
  return report.command === "randread" ? report.cells.map((c) => c.run) : report.runs;
}
