/**
 * Hosting your own coroutines: start 2 real worker threads on one shared
 * region under the batched policy, run a workload module on them twice,
 * read the live counters while the second run goes on, then close.
 *
 *   node examples/runtime-handle.mjs
 */
import { startRuntime } from "coropool";

const workload = new URL("./workloads/ping.mjs", import.meta.url);
const runtime = await startRuntime({ threads: 2, policy: "batched" });
try {
  const first = await runtime.run(workload, { options: { coroutines: 200 } });
  console.log(`first run: ${first.coroutines} coroutines, ${first.stacks.created} new stacks`);

  // The pools keep what the first run gave back: the second run starts with
  // them. Its counters are read while it runs (atomic loads, never a wait).
  let mostLive = 0;
  const poll = setInterval(() => (mostLive = Math.max(mostLive, runtime.stats().stacks.live)), 1);
  const second = await runtime.run(workload, { options: { coroutines: 2000, hops: 20 } });
  clearInterval(poll);
  console.log(`second run: ${second.coroutines} coroutines, ${second.stacks.created} new stacks; at most ${mostLive} live when sampled`);
  const now = runtime.stats();
  console.log(`between runs: ${now.stacks.live} live, ${now.stacks.pooled} pooled, ${now.vmas.current} VMAs (baseline ${now.vmas.baseline})`);
} finally {
  const end = await runtime.close();
  console.log(`closed: ${end.stacks.created} stacks created in all, ${end.stacks.freed} freed, VMAs back to baseline: ${end.vmas.backToBaseline}`);
}
