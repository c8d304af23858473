import { describe, expect, it } from "vitest";
import { soak } from "../bench/soak.js";

// The short soak: the same code as `npm run soak` (10.5 million lifecycles on
// 8 workers), scaled down to a few seconds.
describe("short soak", () => {
  it("random bursts, out-of-order completion and thread exits on 4 workers: every phase's invariant check passes", async () => {
    const options = { lifecycles: 180_000, workers: 4, phases: 4, maxBurst: 300, exitChance: 0.02, seed: 3 };
    const results = await soak(options);
    expect(results.map((r) => r.policy)).toEqual(["legacy", "batched", "none", "elastic"]);
    const perThreadPhase = Math.ceil(options.lifecycles / results.length / options.workers / options.phases);
    for (const r of results) {
      expect(r.violations).toEqual([]);
      expect(r.checks).toBe(options.phases + 1); // every phase boundary, and after shutdown
      expect(r.lifecycles).toBe(perThreadPhase * options.workers * options.phases);
      expect(r.threadExits).toBeGreaterThan(0);
      expect(r.run.deadThreads).toEqual([]);
      expect(r.run.invariantViolations).toEqual([]);
      expect(r.run.stacks.created - r.run.stacks.freed).toBe(r.run.stacks.leaked);
      expect(r.run.vmas.final).toBe(r.run.vmas.baseline + 2 * r.run.stacks.leaked);
      if (r.policy !== "legacy") expect(r.run.stacks.leaked).toBe(0);
      if (r.policy === "none") expect(r.run.stacks.created).toBe(r.lifecycles);
    }
  }, 60_000);
});
