/**
 * The programs in examples/ run as a user runs them (`node examples/X.mjs`,
 * importing "coropool" by its package name) and say what they should.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "./helpers/cli.js";

const exec = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), "coropool-examples-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function example(name: string, ...args: string[]): Promise<string[]> {
  const { stdout } = await exec(process.execPath, [join(ROOT, "examples", name), ...args], { cwd: tmp, timeout: 60_000 });
  return stdout.trim().split("\n");
}

/** The numbers of a line, in order. */
function numbers(line: string): number[] {
  return [...line.matchAll(/\d+/g)].map((m) => Number(m[0]));
}

describe("examples/", () => {
  it("run-scenario.mjs: legacy aborts with QEMU's message on stress-small, batched completes", async () => {
    const lines = await example("run-scenario.mjs");
    expect(lines[0]).toMatch(/^stress: .*scenarios\/stress-small\.json$/);
    expect(lines[1]).toMatch(/^legacy: aborted: failed to (allocate memory for stack|set up stack guard page); peak \d+ of 5600 VMAs/);
    expect(lines[2]).toMatch(/^batched: completed; peak \d+ of 5600 VMAs/);
  });

  it("custom-workload.mjs: every coroutine completes under each policy, and the report is written", async () => {
    const out = join(tmp, "custom.html");
    const lines = await example("custom-workload.mjs", out);
    for (const [i, policy] of ["legacy", "batched", "none"].entries()) {
      expect(lines[i]).toMatch(new RegExp(`^${policy}: 128 coroutines completed; \\d+ stacks created, \\d+ freed$`));
      const [, created, freed] = numbers(lines[i]!);
      expect(created).toBe(freed);
    }
    expect(lines[3]).toBe(`report: ${out}`);
    expect(readFileSync(out, "utf8")).toMatch(/^<!DOCTYPE html>/);
  });

  it("runtime-handle.mjs: the second run reuses the first run's stacks; close brings the VMAs back", async () => {
    const lines = await example("runtime-handle.mjs");
    expect(lines[0]).toBe("first run: 400 coroutines, 400 new stacks");
    const [second, created] = numbers(lines[1]!);
    expect(second).toBe(4000);
    expect(created).toBeLessThan(4000);
    const [live, pooled, vmas, baseline] = numbers(lines[2]!);
    expect(live).toBe(0);
    expect(vmas).toBe(baseline! + 2 * pooled!);
    expect(lines[3]).toBe("closed: 4000 stacks created in all, 4000 freed, VMAs back to baseline: true");
  });

  it("replay.mjs: QEMU-exact counts for the burst-then-quiet trace", async () => {
    const lines = await example("replay.mjs");
    expect(lines).toEqual([
      "legacy: 472 stacks created, pooled 128 global + 64/64 per thread, peak 728 VMAs",
      "batched: 472 stacks created, pooled 128 global + 172/172 per thread, peak 944 VMAs",
      "none: 600 stacks created, pooled 0 global + 0/0 per thread, peak 600 VMAs",
    ]);
  });
});
