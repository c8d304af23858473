/**
 * A custom workload from code: a scenario object naming a workload module,
 * run on 2 real worker threads under three policies, with a progress callback;
 * then the same result rendered as coropool's HTML report.
 *
 *   node examples/custom-workload.mjs [REPORT.html]
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { renderReport, run } from "coropool";

const scenario = {
  kind: "custom",
  description: "64 coroutines per thread, each yielding twice",
  module: fileURLToPath(new URL("./workloads/ping.mjs", import.meta.url)),
  threads: 2,
  options: { coroutines: 64, hops: 2 },
};

let progressCalls = 0;
const doc = await run(scenario, {
  policies: ["legacy", "batched", "none"],
  onProgress: () => progressCalls++,
});

for (const r of doc.runs) {
  const done = r.parts.reduce((n, p) => n + (p?.completed ?? 0), 0);
  console.log(`${r.policy}: ${done} coroutines completed; ${r.stacks.created} stacks created, ${r.stacks.freed} freed`);
}

const out = process.argv[2];
if (out) {
  writeFileSync(out, renderReport(doc));
  console.log(`report: ${out}`);
}
