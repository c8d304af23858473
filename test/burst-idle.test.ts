// The burst-idle scenario on real worker threads: bursts on some threads, a
// quiet period, then load on the others. Needs `npx tsc -p tsconfig.json`
// first (the workers run dist/).
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runBurstIdle } from "../src/experiments/burst-idle.js";
import { loadScenarioFile } from "../src/scenarios/validate.js";
import type { BurstIdleScenario } from "../src/scenarios/types.js";
import { ROOT } from "./helpers/cli.js";

const FILE = join(ROOT, "scenarios", "burst-idle.json");

describe("burst-idle", { timeout: 60_000 }, () => {
  it("the bundled scenario: elastic ends within (2 x threads + 1) batches; batched keeps its global pool full", async () => {
    const scenario = loadScenarioFile(FILE) as BurstIdleScenario;
    const report = await runBurstIdle(scenario, FILE, { policies: ["batched", "elastic"], baselineVmas: 1000, check: true });
    const [batched, elastic] = report.runs;
    const bound = (2 * scenario.threads + 1) * 128;
    for (const run of report.runs) {
      expect(run.completed).toBe(true);
      expect(run.invariantViolations).toEqual([]);
      expect(run.phaseChecks.flatMap((c) => c.violations)).toEqual([]);
      expect(run.vmas.backToBaseline).toBe(true);
      expect(run.burstIdle.workingSetBound).toBe(bound);
    }
    // elastic: the quiet period (4 decay periods) gives back all but a working set.
    expect(elastic!.burstIdle.mappedAfterQuiet).toBeLessThanOrEqual(bound);
    expect(elastic!.burstIdle.mappedAtEnd).toBeLessThanOrEqual(bound);
    // batched: nothing is given back; the bursts' stacks stay in the global pool.
    expect(batched!.burstIdle.mappedAfterQuiet).toBe(batched!.burstIdle.mappedAfterBursts);
    expect(batched!.burstIdle.mappedAtEnd).toBeGreaterThan(4 * bound);
    // The samples show the fall: elastic's last sample of the quiet period is below its peak.
    const stacks = (vmas: number) => (vmas - elastic!.vmas.baseline) / 2;
    expect(Math.max(...elastic!.samples.map((s) => stacks(s.vmas)))).toBeGreaterThan(4 * bound);
  });

  it("with no quiet period, the bursts' stacks are still mapped when the load starts", async () => {
    const scenario = { ...(loadScenarioFile(FILE) as BurstIdleScenario), quietMs: 0, bursts: 1, burst: 2048, rounds: 2 };
    const report = await runBurstIdle(scenario, FILE, { policies: ["elastic"], baselineVmas: 1000 });
    const [elastic] = report.runs;
    expect(elastic!.completed).toBe(true);
    // Without time to decay, the bursts' global batches are still there after the (empty) quiet period.
    expect(elastic!.burstIdle.mappedAfterQuiet).toBeGreaterThan((2 * scenario.threads + 1) * 128);
  });
});
