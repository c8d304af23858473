// `coropool --version`, and the bundled scenarios and traces addressed by
// name from a folder that holds none of them (as from an install): the same
// file, the same result as by path; an unknown name is bad input that lists
// the names there are.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT, runCli } from "./helpers/cli.js";

const EMPTY = mkdtempSync(join(tmpdir(), "coropool-names-"));
afterAll(() => rmSync(EMPTY, { recursive: true, force: true }));
const inEmpty = { cwd: EMPTY, timeoutMs: 30_000 };
const BUNDLED_SCENARIOS = "bug-report, burst-idle, custom-example, imbalance, randread, stress-small";
/** Stated, so the outcome does not depend on the CLI process's own VMA count. */
const BASELINE = ["--baseline-vmas", "100"];

describe("--version", () => {
  it("prints package.json's version and exits 0", () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
    const r = runCli(["--version"], inEmpty);
    expect(r).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
  });

  it("is in the main help", () => {
    expect(runCli(["--help"], inEmpty).stdout).toMatch(/^ {2}--version +print coropool's version$/m);
  });
});

describe("bundled scenarios by name", () => {
  it("--scenario NAME runs the package's scenarios/NAME.json, as its path does", () => {
    const path = join(ROOT, "scenarios", "stress-small.json");
    const byName = runCli(["stress", "--scenario", "stress-small", "--policy", "batched", ...BASELINE, "--json"], inEmpty);
    const byPath = runCli(["stress", "--scenario", path, "--policy", "batched", ...BASELINE, "--json"], inEmpty);
    expect(byName.stderr).toBe("");
    expect(byName.code).toBe(byPath.code);
    const [a, b] = [JSON.parse(byName.stdout), JSON.parse(byPath.stdout)];
    expect(a.scenarioFile).toBe(path);
    expect(a.scenario).toEqual(b.scenario);
    // What the scenario and the flags set (stack counts depend on the threads' interleaving).
    expect(a.runs[0].pool).toEqual(b.runs[0].pool);
    expect(a.runs[0].vmas.limit).toBe(b.runs[0].vmas.limit);
  });

  it("run NAME runs a bundled custom workload (its module found beside the scenario)", () => {
    const r = runCli(["run", "custom-example", "--policy", "batched", ...BASELINE, "--json"], inEmpty);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).scenarioFile).toBe(join(ROOT, "scenarios", "custom-example.json"));
  });

  it.each([
    [["stress", "--scenario", "no-such-scenario"], "--scenario: 'no-such-scenario' is no bundled scenario"],
    [["run", "no-such-scenario"], "run: 'no-such-scenario' is no bundled scenario"],
  ])("an unknown name is bad input that lists the bundled names: %j", (args, start) => {
    const r = runCli(args, inEmpty);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(`coropool: ${start} and no file; allowed: a bundled scenario's name (${BUNDLED_SCENARIOS}) or the path of a scenario file\n`);
  });
});

describe("bundled traces by name", () => {
  it("replay NAME replays the package's traces/NAME.trace, as its path does", () => {
    const args = ["--policy", "legacy,batched", "--max-map-count", "65530", ...BASELINE, "--json"];
    const byName = runCli(["replay", "imbalance", ...args], inEmpty);
    const byPath = runCli(["replay", join(ROOT, "traces", "imbalance.trace"), ...args], inEmpty);
    expect(byName.stderr).toBe("");
    expect(byName).toEqual(byPath);
  });

  it("the bundled real QEMU 7.2 log: replay under legacy lands within 2 stacks of the 634 QEMU had mapped at the end", () => {
    const r = runCli(["replay", "qemu-7.2-virtio", "--policy", "legacy", "--virtio-blk", "4x256,4x256", ...BASELINE, "--json"], inEmpty);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as { live: number; pooled: { global: number; threads: number[] } };
    const mapped = result.live + result.pooled.global + result.pooled.threads.reduce((a, b) => a + b, 0);
    expect(Math.abs(mapped - 634)).toBeLessThanOrEqual(2);
  });

  it("an unknown name is bad input that lists the bundled names", () => {
    const r = runCli(["replay", "no-such-trace", "--policy", "batched"], inEmpty);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("coropool: replay: 'no-such-trace' is no bundled trace and no file; allowed: a bundled trace's name (imbalance, qemu-7.2-virtio) or the path of a trace file\n");
  });
});
