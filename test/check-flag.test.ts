import { describe, expect, it } from "vitest";
import { runCli } from "./helpers/cli.js";

describe("--check and --timeout-ms on a runtime command", () => {
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

  it("--timeout-ms stops a coroutine that never yields back and names its thread (exit 5, one stderr line)", () => {
    const r = runCli(["run", "test/fixtures/reliability/never-yields.json", "--policy", "batched", "--timeout-ms", "1500", "--baseline-vmas", "100", "--max-map-count", "100000"]);
    expect(r.code).toBe(5);
    expect(r.stderr).toBe("coropool: batched: timed out: T1: did not finish within 1500 ms; its worker was terminated\n");
    expect(r.stdout).toMatch(/^outcome +TIMED OUT: T1 stopped at \d+ ms$/m);
    expect(r.stdout).toContain("batched: T1 died (did not finish within 1500 ms");
    expect(r.stdout).toMatch(/^VMAs back to baseline +yes$/m);
  });
});
