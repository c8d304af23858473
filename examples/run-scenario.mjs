/**
 * Runs a bundled scenario under two pool policies and prints what each did.
 *
 *   node examples/run-scenario.mjs [SCENARIO]    (default: stress-small)
 *
 * SCENARIO is a bundled scenario's name (coropool's scenarios/ folder), a
 * path to a scenario file, or in code a scenario object.
 */
import { run } from "coropool";

const scenario = process.argv[2] ?? "stress-small";
const doc = await run(scenario, { policies: ["legacy", "batched"], seed: 7 });

console.log(`${doc.command}: ${doc.scenarioFile}`);
for (const r of doc.runs) {
  const ending = r.abort ? `aborted: ${r.abort.message}` : "completed";
  console.log(`${r.policy}: ${ending}; peak ${r.vmas.peak} of ${r.vmas.limit} VMAs; ${r.stacks.created} stacks created`);
}
