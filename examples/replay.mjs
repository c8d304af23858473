/**
 * Replays a trace of pool events under each policy and prints the counts
 * QEMU's own pool code gives for it.
 *
 *   node examples/replay.mjs [TRACE]    (default: a trace built below)
 *
 * The trace can also be a path or any iterable of lines.
 */
import { replay } from "coropool";

function* burstThenQuiet() {
  yield "threads 2";
  // Thread 0 has a burst of 300 coroutines in flight, then all terminate...
  for (let i = 0; i < 300; i++) yield `create T0 c${i}`;
  for (let i = 0; i < 300; i++) yield `terminate T0 c${i}`;
  // ...and thread 1 needs 300 of its own while thread 0 sits idle.
  for (let i = 0; i < 300; i++) yield `create T1 d${i}`;
  for (let i = 0; i < 300; i++) yield `terminate T1 d${i}`;
}

const trace = process.argv[2] ?? burstThenQuiet();
const results = await replay(trace, { policies: ["legacy", "batched", "none"], maxMapCount: 65530, baselineVmas: 0 });
for (const r of results) {
  console.log(`${r.policy}: ${r.stacksCreated} stacks created, pooled ${r.pooled.global} global + ${r.pooled.threads.join("/")} per thread, peak ${r.vmas.peak} VMAs`);
}
