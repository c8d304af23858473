import { join } from "node:path";
import { projectRoot } from "../../project-root.js";
import type { RunResult } from "../../runtime/result.js";
import { planStress, stressThreadNames } from "../../scenarios/stress/plan.js";
import type { StressScenario } from "../../scenarios/types.js";
import { loadScenarioFile } from "../../scenarios/validate.js";
import { InputError } from "../../errors.js";
import { commandOutput, REPORT_HELP_LINE, REPORT_OPTION, reportPathFlag } from "../../report/command-output.js";
import { toDocument } from "../../report/document.js";
import { parseCommandArgs } from "../args.js";
import { EXIT, exitCodeFor, type CommandResult } from "../exit.js";
import { formatTable } from "../output.js";
import { flatRows, stressSummaryRows, troubleLines } from "../../report/summary-rows.js";
import { runPlanUnderPolicies } from "../run-policies.js";
import { formatRealAbortReport, runRealAbort } from "../real-abort.js";
import { RUNTIME_HELP, RUNTIME_OPTIONS, runtimeFlags, runtimeOptionsFor, type RuntimeFlags } from "../runtime-flags.js";

export const STRESS_HELP = `Usage: coropool stress [options]

The vma-exhaustion scenario: a guest's IOThreads (and main loop) repeatedly
have bursts of requests in flight, each in its own coroutine, with the pool
size raised per virtio-blk device as QEMU raises it. On Linux's default
limit the legacy pool runs out and aborts with QEMU's message; batched survives.

Options:
${RUNTIME_HELP}
  --rounds N             override the scenario's number of rounds
${REPORT_HELP_LINE}

Default scenario: scenarios/bug-report.json (4 IOThreads + main loop, two
virtio-blk devices of 64 queues x 256 entries, max_map_count 65530).
Default policies: legacy,batched.

With --backend kernel every stack is a real mmap + mprotect, and each policy
runs in its own child process against this host's real vm.max_map_count (no
system setting is changed): the legacy child runs out for real and this
command reports how it died (QEMU's message, or V8's signal and last words).

Exit status: 0 every run completed, 3 at least one aborted on VMA exhaustion
(results still printed), 2 bad input, 1 internal error.

Examples:
  coropool stress
  coropool stress --policy legacy,batched,none --json
  coropool stress --scenario scenarios/stress-small.json --seed 7
  coropool stress --backend kernel
  coropool stress --report reports/stress.html`;

export const DEFAULT_STRESS_SCENARIO = "scenarios/bug-report.json";

export interface StressReport {
  command: "stress";
  scenarioFile: string;
  scenario: StressScenario;
  threadNames: string[];
  runs: RunResult[];
}

export async function stressCommand(argv: string[]): Promise<CommandResult> {
  const { values } = parseCommandArgs("stress", argv, { ...RUNTIME_OPTIONS, ...REPORT_OPTION, rounds: { type: "string" } }, 0);
  if (values.help) return { stdout: STRESS_HELP, exitCode: EXIT.OK };
  const flags = runtimeFlags(values, ["legacy", "batched"]);
  if (flags.threads !== undefined) {
    throw new InputError("ERR_USAGE", "stress: --threads does not apply; the guest's IOThreads and main loop set the threads (edit the scenario file)");
  }
  const file = flags.scenario ?? join(projectRoot(), DEFAULT_STRESS_SCENARIO);
  const scenario = withOverrides(loadScenarioFile(file), flags, values.rounds);
  const reportPath = reportPathFlag(values.report);
  if (flags.backend === "kernel") {
    // Real stacks up to the real limit can only end in a real abort: each
    // policy runs in a child process, and this process reports how it died.
    const real = await runRealAbort(file, scenario, flags.policies, flags.stackBytes);
    return {
      stdout: commandOutput(toDocument(real), () => formatRealAbortReport(real), flags.json, reportPath),
      exitCode: real.children.every((c) => c.outcome.kind === "completed") ? EXIT.OK : EXIT.VMA_ABORT,
    };
  }
  const report = await runStress(file, scenario, flags);
  return {
    stdout: commandOutput(toDocument(report), () => formatStressReport(report), flags.json, reportPath),
    exitCode: exitCodeFor(report.runs),
  };
}

function withOverrides(loaded: unknown, flags: RuntimeFlags, rounds: unknown): StressScenario {
  const s = loaded as StressScenario;
  if (s.kind !== "vma-exhaustion") {
    throw new InputError("ERR_USAGE", `stress: the scenario is of kind '${s.kind}'; stress needs kind 'vma-exhaustion' (or use 'coropool run FILE')`);
  }
  const out = { ...s };
  if (flags.seed !== undefined) out.seed = flags.seed;
  if (rounds !== undefined) {
    const n = Number(rounds);
    if (!/^\d+$/.test(String(rounds)) || n < 1 || n > 10000) {
      throw new InputError("ERR_USAGE", `bad value for --rounds: '${String(rounds)}'; allowed: an integer from 1 to 10000`);
    }
    out.rounds = n;
  }
  return out;
}

export async function runStress(file: string, scenario: StressScenario, flags: RuntimeFlags): Promise<StressReport> {
  const plan = planStress(scenario);
  const threadNames = stressThreadNames(scenario);
  const runs = await runPlanUnderPolicies(
    "stress",
    flags.policies,
    (policy) => runtimeOptionsFor(flags, policy, threadNames.length, scenario.maxMapCount),
    plan,
    !flags.json,
  );
  return { command: "stress", scenarioFile: file, scenario, threadNames, runs };
}

export function formatStressReport(report: StressReport): string {
  const { runs, threadNames, scenario } = report;
  const devices = scenario.guest.devices.map((d) => `${d.name} ${d.numQueues}x${d.queueSize}`).join(", ");
  const header = [
    `vma-exhaustion: ${scenario.guest.iothreads} IOThreads${scenario.guest.mainLoop ? " + main loop" : ""}, devices ${devices}, ${scenario.rounds} rounds, seed ${scenario.seed}`,
  ];
  const rows = flatRows(stressSummaryRows(runs, threadNames));
  const lines = [...header, formatTable(["", ...runs.map((r) => r.policy)], rows)];
  for (const r of runs) {
    if (!r.abort) continue;
    const a = r.abort;
    lines.push(
      `${r.policy}: ${threadNames[a.thread]} aborted: ${a.message} (VMAs ${a.vmas} of ${r.vmas.limit}; ${a.stacksCreated - a.stacksFreed} stacks: ${a.live} live, ${a.pooledGlobal} in the shared pool, per thread ${a.pooledThreads.join("/")} pooled)`,
    );
  }
  lines.push(...troubleLines(runs));
  return lines.join("\n");
}
