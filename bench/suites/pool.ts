import type { PolicyName } from "../../src/pools/index.js";
import { NO_SLOT } from "../../src/shared/layout.js";
import { poolFixture } from "../fixture.js";
import { find, markdownTable, measure, ns, OPS_PER_CALL, ratio, type BenchSettings, type PerOp } from "../measure.js";

/**
 * Stacks pooled before measuring, so get and put stay on the fast path: 200
 * fills legacy's release pool (128) and leaves 64 in the thread's alloc pool,
 * where its same-thread get and put then work; batched keeps 128 + 72 locally.
 */
const WARM_STACKS = 200;

function getPutTask(policy: PolicyName) {
  const { policy: pool, stacks } = poolFixture(policy);
  // Fill the thread's local pool: create, then terminate, a burst of stacks.
  const warm = Array.from({ length: WARM_STACKS }, () => stacks.acquireStack());
  for (const s of warm) stacks.releaseStack(s);
  return {
    name: `get+put ${policy}`,
    fn: () => {
      for (let i = 0; i < OPS_PER_CALL; i++) {
        const slot = pool.get(0);
        if (slot === NO_SLOT) throw new Error(`${policy}: the pool ran dry; the benchmark left the fast path`);
        pool.put(0, slot);
      }
    },
  };
}

function bareTask() {
  const words = new Int32Array(new SharedArrayBuffer(4 * 128));
  let top = 64;
  return {
    name: "bare shared Int32Array pop/push",
    fn: () => {
      for (let i = 0; i < OPS_PER_CALL; i++) {
        const v = words[--top]!;
        words[top++] = v;
      }
    },
  };
}

export async function runPool(settings: BenchSettings): Promise<{ results: PerOp[]; markdown: string }> {
  const policies: PolicyName[] = ["legacy", "batched"];
  const results = await measure(settings, [bareTask(), ...policies.map(getPutTask)]);
  const bare = find(results, "bare shared Int32Array pop/push").nsPerOp;
  const rows = policies.map((p) => {
    const r = find(results, `get+put ${p}`).nsPerOp;
    return [p, ns(r), ratio(r, bare)];
  });
  rows.push(["bare pop/push", ns(bare), "1.00x"]);
  const markdown = [
    "Pool get + put on the owning thread's fast path (local pool non-empty), per pair.",
    "",
    markdownTable(["policy", "get+put", "vs bare pop/push"], rows),
  ].join("\n");
  return { results, markdown };
}
