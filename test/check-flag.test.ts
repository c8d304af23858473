import { describe, expect, it } from "vitest";
import { runCli } from "./helpers/cli.js";

describe("--check on a runtime command", () => {
  it("walks the region with the invariant checker at every phase boundary and after shutdown", () => {
    const r = runCli(["stress", "--scenario", "scenarios/stress-small.json", "--policy", "legacy,batched", "--rounds", "3", "--max-map-count", "100000", "--baseline-vmas", "100", "--check", "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { runs: { policy: string; phaseChecks: { point: string; violations: string[] }[] }[] };
    for (const run of doc.runs) {
      expect(run.phaseChecks.map((c) => c.point)).toEqual(["after round 1", "after round 2", "after round 3", "after shutdown"]);
      for (const c of run.phaseChecks) expect(c.violations).toEqual([]);
    }
  });

  it("without it, only the walk after shutdown", () => {
    const r = runCli(["stress", "--scenario", "scenarios/stress-small.json", "--policy", "batched", "--rounds", "2", "--max-map-count", "100000", "--baseline-vmas", "100", "--json"]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { runs: { phaseChecks: { point: string }[] }[] };
    expect(doc.runs[0]!.phaseChecks.map((c) => c.point)).toEqual(["after shutdown"]);
  });
});
