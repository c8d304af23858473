/**
 * The child process of the real-abort experiment (real-abort.ts spawns it by
 * path; `coropool stress --backend kernel`): one policy, real stacks, up to
 * the host's real vm.max_map_count. It reports its VMA count on
 * stdout as it goes ("vmas N"); on the first failed mapping a worker prints
 * QEMU's message and aborts the process, as QEMU does. If it survives, the
 * last line is "result {json}".
 */
import { writeSync } from "node:fs";
import type { PolicyName } from "../pools/index.js";
import { Runtime } from "../runtime/runtime.js";
import { planStress } from "../scenarios/stress/plan.js";
import type { StressScenario } from "../scenarios/types.js";
import { readMaxMapCount, readProcessVmaCount } from "../vma/limits.js";

export interface RealAbortChildArgs {
  scenario: StressScenario;
  policy: PolicyName;
  stackSize?: number;
}

/** Progress lines at most this often: enough to know the last count, cheap to print. */
const REPORT_INTERVAL_MS = 10;

async function main(args: RealAbortChildArgs): Promise<void> {
  const { scenario, policy } = args;
  const threads = scenario.guest.iothreads + (scenario.guest.mainLoop ? 1 : 0);
  let lastReport = 0;
  const runtime = new Runtime({
    threads,
    policy,
    backend: "kernel",
    realLimitChild: true,
    maxMapCount: readMaxMapCount().value,
    sampleIntervalMs: REPORT_INTERVAL_MS,
    ...(args.stackSize ? { stackSize: args.stackSize } : {}),
    // A worker that dies (V8 could not map memory of its own) ends the child
    // at once, as the death of a thread would end QEMU.
    onWorkerFailure: (reason) => {
      writeSync(2, `real-vmas ${readProcessVmaCount() ?? "unknown"}\nworker died: ${reason}\n`);
      process.kill(process.pid, "SIGABRT");
    },
    onSample: (s) => {
      if (s.tMs - lastReport < REPORT_INTERVAL_MS) return;
      lastReport = s.tMs;
      process.stdout.write(`vmas ${s.vmas}\n`);
    },
  });
  try {
    const result = await runtime.run(planStress(scenario));
    const { samples: _samples, ...summary } = result;
    process.stdout.write(`result ${JSON.stringify(summary)}\n`);
  } finally {
    await runtime.close();
  }
}

main(JSON.parse(process.argv[2] ?? "{}") as RealAbortChildArgs).catch((err: unknown) => {
  process.stderr.write(`coropool child: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
