import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, runMain } from "./helpers/cli.js";

const ORACLE = join(import.meta.dirname, "fixtures", "oracle");
const dir = mkdtempSync(join(tmpdir(), "coropool-replay-"));

function traceFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const limits = ["--max-map-count", "65530", "--baseline-vmas", "1000"];

describe("coropool replay", () => {
  it("prints QEMU's exact JSON and exits 0 when the replay completes", () => {
    const r = runCli(["replay", join(ORACLE, "traces/sample-01.trace"), "--policy", "batched", ...limits, "--json"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(readFileSync(join(ORACLE, "expected/sample-01.batched.65530.1000.json"), "utf8").trim() + "\n");
    expect(Object.keys(JSON.parse(r.stdout))).toEqual(["policy", "events", "stacksCreated", "stacksFreed", "live", "pooled", "vmas", "failure"]);
  });

  it("exits 3 on VMA exhaustion and still prints the result", async () => {
    const r = await runMain(["replay", join(ORACLE, "traces/sample-01.trace"), "--policy", "legacy", "--max-map-count", "1249", "--baseline-vmas", "1000", "--json"]);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout).failure).toEqual({ line: 180, error: "failed to set up stack guard page" });
  });

  it("runs a comma list of policies side by side (a JSON array with --json)", async () => {
    const file = join(ORACLE, "traces/sample-02.trace");
    const json = await runMain(["replay", file, "--policy", "legacy,batched,none", ...limits, "--json"]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).map((r: { policy: string }) => r.policy)).toEqual(["legacy", "batched", "none"]);
    const text = await runMain(["replay", file, "--policy", "legacy,batched", ...limits]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/stacks created\s+440\s+390/);
    expect(text.stdout).toMatch(/outcome\s+completed\s+completed/);
  });

  it("prints a human summary without --json", async () => {
    const r = await runMain(["replay", join(ORACLE, "traces/sample-04.trace"), "--policy", "batched", "--max-map-count", "3360", "--baseline-vmas", "1000"]);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain("batched: line 7587: failed to allocate memory for stack");
  });

  it.each([
    ["an unknown event", "threads 2\ncreate T0 a\nfrobnicate T0\n", /:3: unknown event 'frobnicate'; allowed: threads, inc, dec, create, terminate, exit$/],
    ["a thread index out of range", "threads 2\ncreate T2 a\n", /:2: bad thread 'T2'; allowed: T0 to T1$/],
    ["terminating a coroutine that is not live", "# c\nthreads 1\ncreate T0 a\nterminate T0 a\nterminate T0 a\n", /:5: terminate of 'a', which is not live/],
    ["creating a name that is live", "threads 1\ncreate T0 a\ncreate T0 a\n", /:3: create of 'a', which is already live/],
    ["a missing threads line", "create T0 a\n", /:1: 'create' before the 'threads N' line/],
    ["a repeated threads line", "threads 1\n\nthreads 2\n", /:3: 'threads' given again/],
    ["no events at all", "# nothing\n", /no 'threads N' line/],
    ["a bad amount", "threads 1\ninc -5\n", /:2: bad amount '-5' for inc; allowed: an integer from 0 to 4294967295$/],
    ["an amount past 32 bits", "threads 1\ndec 4294967296\n", /:2: bad amount '4294967296' for dec/],
    ["a missing argument", "threads 1\ncreate T0\n", /:2: 'create' takes 2 arguments \(create T<i> <name>\), got 1$/],
    ["a bad thread count", "threads 0\n", /:1: bad thread count '0'; allowed: an integer from 1 to 4096$/],
  ])("exits 2 with the line number for %s", async (_what, text, message) => {
    const file = traceFile("bad.trace", text);
    const r = await runMain(["replay", file, "--policy", "legacy", ...limits, "--json"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(message);
  });

  it.each([
    [["--policy", "fifo"], "bad --policy fifo; allowed: legacy, batched, none"],
    [["--policy", "legacy,legacy"], "bad --policy legacy,legacy (legacy twice)"],
    [["--policy", "legacy", "--max-map-count", "0"], "bad --max-map-count 0; allowed: an integer from 1 to 2147483647"],
    [["--policy", "legacy", "--baseline-vmas", "many"], "bad --baseline-vmas many"],
    [["--policy", "legacy", "--frob"], "replay: unknown option --frob"],
    [[], "replay: missing --policy"],
  ])("exits 2 for bad flags %j", async (flags, message) => {
    const r = await runMain(["replay", join(ORACLE, "traces/sample-01.trace"), ...flags]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it("exits 2 when the trace cannot be read", async () => {
    const r = await runMain(["replay", join(dir, "missing.trace"), "--policy", "none"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot read trace '.*missing.trace': ENOENT/);
  });

  it("with --check walks the replay's region with the invariant checker and still prints the exact result", async () => {
    const r = await runMain(["replay", join(ORACLE, "traces/sample-03.trace"), "--policy", "legacy", "--max-map-count", "2447", "--baseline-vmas", "1000", "--json", "--check"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe(readFileSync(join(ORACLE, "expected/sample-03.legacy.2447.1000.json"), "utf8").trim());
  });

  it("has --help with examples", async () => {
    const r = await runMain(["replay", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage: coropool replay FILE");
    expect(r.stdout).toContain("Examples:");
  });

  it("rejects an unknown command with exit 2", () => {
    const r = runCli(["frobnicate"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command 'frobnicate'");
  });
});
