import { runRealAbort } from "../../experiments/real-abort.js";
import { DEFAULT_STRESS_POLICIES, DEFAULT_STRESS_SCENARIO, runStress } from "../../experiments/stress.js";
import { toDocument } from "../../report/document.js";
import { formatRealAbortReport, formatStressReport } from "../../report/text.js";
import type { StressScenario } from "../../scenarios/types.js";
import { EXIT, EXIT_HELP, runsVerdict } from "../exit.js";
import { flag, flagHelp, hiddenFlag } from "../flag-table.js";
import { runtimeFlagsWithout } from "../runtime-flags.js";
import { scenarioCommand } from "../scenario-command.js";

/** No --threads: the guest's IOThreads and main loop set the threads (given, it is refused saying so). */
const STRESS_FLAGS = [...runtimeFlagsWithout("threads"), flag("rounds", "N", "override the scenario's number of rounds"), flag("report"), hiddenFlag("threads", "N")];

export const STRESS_HELP = `Usage: coropool stress [options]

The vma-exhaustion scenario: a guest's IOThreads (and main loop) repeatedly
have bursts of requests in flight, each in its own coroutine, with the pool
size raised per virtio-blk device as QEMU raises it. On Linux's default
limit the legacy pool runs out and aborts with QEMU's message; batched survives.

Options:
${flagHelp(STRESS_FLAGS)}

Default scenario: bug-report (4 IOThreads + main loop, two virtio-blk devices
of 64 queues x 256 entries, max_map_count 65530).
Default policies: legacy,batched.

With --backend kernel every stack is a real mmap + mprotect, and each policy
runs in its own child process against this host's real vm.max_map_count (no
system setting is changed): the legacy child runs out for real and this
command reports how it died (QEMU's message, or V8's signal and last words).

${EXIT_HELP}
With --backend kernel: 0 every child completed, 3 at least one died.

Examples:
  coropool stress
  coropool stress --policy legacy,batched,none --json
  coropool stress --scenario stress-small --seed 7
  coropool stress --backend kernel
  coropool stress --report reports/stress.html`;

export const stressCommand = scenarioCommand<StressScenario>({
  name: "stress",
  help: STRESS_HELP,
  kind: "vma-exhaustion",
  defaultScenario: DEFAULT_STRESS_SCENARIO,
  defaultPolicies: DEFAULT_STRESS_POLICIES,
  flags: STRESS_FLAGS,
  runPlace: "child-processes",
  prepare(scenario, flags) {
    const rounds = flags.options.rounds as number | undefined;
    return rounds === undefined ? scenario : { ...scenario, rounds };
  },
  async execute(scenario, file, options) {
    if (options.backend === "kernel") {
      // Real stacks up to the real limit can only end in a real abort: each
      // policy runs in a child process, and this process reports how it died.
      const real = await runRealAbort(scenario, file, options);
      return {
        document: toDocument(real),
        text: () => formatRealAbortReport(real),
        exitCode: real.children.every((c) => c.outcome.kind === "completed") ? EXIT.OK : EXIT.VMA_ABORT,
      };
    }
    const report = await runStress(scenario, file, options);
    return { document: toDocument(report), text: () => formatStressReport(report), ...runsVerdict(report.runs) };
  },
});
