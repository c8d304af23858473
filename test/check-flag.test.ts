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

  it("--timeout-ms stops a coroutine that never yields back and names its thread (exit 1)", () => {
    const r = runCli(["run", "test/fixtures/reliability/never-yields.json", "--policy", "batched", "--timeout-ms", "1500", "--baseline-vmas", "100", "--max-map-count", "100000"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^outcome +FAILED: T1 died \(did not finish within 1500 ms \(a coroutine that never yields back\?\); its worker was terminated\) \[run timed out\]$/m);
    expect(r.stdout).toContain("batched: T1 died (did not finish within 1500 ms");
    expect(r.stdout).toMatch(/^VMAs back to baseline +yes$/m);
  });
});
