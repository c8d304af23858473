import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Runtime } from "../src/runtime/runtime.js";
import type { CustomPart, CustomPartResult } from "../src/scenarios/custom/part.js";
import { ROOT } from "./helpers/cli.js";

describe("custom workloads on real workers", () => {
  it("nest coroutines 1,000 deep through the workload API, every stack back at the end", async () => {
    const part: CustomPart = { kind: "custom", modulePath: join(ROOT, "test", "fixtures", "workloads", "nest.mjs"), options: { count: 4, depth: 1000 }, seed: 1 };
    for (const policy of ["legacy", "batched", "none"] as const) {
      const runtime = new Runtime({ threads: 2, policy, maxMapCount: 100_000, baselineVmas: 100 });
      try {
        const result = await runtime.run({ parts: [part, part], poolSizeIncrease: 0 });
        const parts = result.parts as CustomPartResult[];
        for (const p of parts) {
          expect(p).toMatchObject({ coroutines: 4, completed: 4, failed: 0 });
          expect(p.sampleResults).toEqual([1000, 1000, 1000, 1000]);
        }
        // Every coroutine, nested or not, takes a stack: 2 threads x 4 x (1 + 1000).
        expect(result.perThread.reduce((a, t) => a + t.gets, 0)).toBe(2 * 4 * 1001);
        expect(result.invariantViolations).toEqual([]);
        expect(result.vmas.final - result.vmas.baseline).toBe(2 * result.stacks.leaked);
      } finally {
        await runtime.close();
      }
    }
  });
});
