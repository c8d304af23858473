/**
 * Issue 11 through the command line: output files are only ever regular files,
 * a finished run is never lost to its report, any length of run draws, signals
 * stop a run cleanly, every outcome's --json validates, inputs are bounded,
 * randread refuses what cannot complete, and each exit status has its line.
 * File cases live in a temporary folder with a FIFO and a symlink made there.
 */
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { kernelBackendUnavailableReason } from "../src/stacks/kernel-backend.js";
import { CLI, ROOT, runCli, type CliRun } from "./helpers/cli.js";
import { expectValidDocument } from "./helpers/result-schema.js";

const TMP = mkdtempSync(join(tmpdir(), "coropool-harden-"));
const FIFO = join(TMP, "pipe");
spawnSync("mkfifo", [FIFO]);
afterAll(() => spawnSync("rm", ["-rf", TMP]));

function tmpFile(name: string, text: string): string {
  const path = join(TMP, name);
  writeFileSync(path, text);
  return path;
}

function customScenario(name: string, module: string, moduleText: string, fields: object = {}): string {
  tmpFile(module, moduleText);
  return tmpFile(name, JSON.stringify({ kind: "custom", module, threads: 2, maxMapCount: 100000, seed: 1, ...fields }));
}

const SMALL = ["--policy", "batched", "--baseline-vmas", "100", "--max-map-count", "100000"];
const ECHO = customScenario("echo.json", "echo.mjs", "export default { coroutines: () => [1, 2, 3], *coroutine(i) { yield; return i; } };\n");

/** Refused: exit 2, one line on stderr, nothing on stdout. */
function expectRefused(r: CliRun, text: string | RegExp): void {
  expect(r.stdout).toBe("");
  expect(r.code).toBe(2);
  expect(r.stderr.split("\n")).toHaveLength(2);
  if (typeof text === "string") expect(r.stderr).toContain(text);
  else expect(r.stderr).toMatch(text);
}

describe("output files: only ever a regular file is created or replaced", () => {
  it("a FIFO as --report is refused before the run and stays a FIFO", () => {
    expectRefused(runCli(["run", ECHO, ...SMALL, "--report", FIFO]), "it is a FIFO (named pipe), not a regular file");
    expect(lstatSync(FIFO).isFIFO()).toBe(true);
  });

  it("a folder as --report is refused", () => {
    expectRefused(runCli(["run", ECHO, ...SMALL, "--report", TMP]), "it is a folder");
  });

  it("a symlink is written through: the link stays, the file it names gets the page", () => {
    const target = tmpFile("target.html", "old");
    const link = join(TMP, "link.html");
    symlinkSync("target.html", link);
    const r = runCli(["run", ECHO, ...SMALL, "--report", link]);
    expect(r.code).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe("target.html");
    expect(readFileSync(target, "utf8")).toMatch(/^<!DOCTYPE html>/);
  });

  it("a symlink to a FIFO, or to nothing, is refused", () => {
    symlinkSync(FIFO, join(TMP, "to-fifo.html"));
    symlinkSync(join(TMP, "nowhere", "x.html"), join(TMP, "dangling.html"));
    expectRefused(runCli(["run", ECHO, ...SMALL, "--report", join(TMP, "to-fifo.html")]), "it is a symlink to");
    expectRefused(runCli(["run", ECHO, ...SMALL, "--report", join(TMP, "dangling.html")]), "cannot be followed");
  });

  it("the scenario file as --report, also through a link, is refused and kept", () => {
    const scenario = join(TMP, "own.json");
    copyFileSync(ECHO, scenario);
    symlinkSync("own.json", join(TMP, "own-link.html"));
    const before = readFileSync(scenario, "utf8");
    expectRefused(runCli(["run", scenario, ...SMALL, "--report", scenario]), "it is the input file");
    expectRefused(runCli(["run", scenario, ...SMALL, "--report", join(TMP, "own-link.html")]), "it is the input file");
    expect(readFileSync(scenario, "utf8")).toBe(before);
  });

  it("report r.json -o r.json (or a link to it) is refused and the result kept", () => {
    const run = runCli(["run", ECHO, ...SMALL, "--json"]);
    const saved = tmpFile("saved.json", run.stdout);
    symlinkSync("saved.json", join(TMP, "saved-link.html"));
    expectRefused(runCli(["report", saved, "-o", saved]), "it is the input file");
    expectRefused(runCli(["report", saved, "-o", join(TMP, "saved-link.html")]), "it is the input file");
    expect(readFileSync(saved, "utf8")).toBe(run.stdout);
    expect(runCli(["report", saved, "-o", join(TMP, "saved.html")]).code).toBe(0);
  });

  it("a wrong result file's hint never names the file itself as the place to write", () => {
    const scenario = join(TMP, "not-a-result.json");
    copyFileSync(ECHO, scenario);
    const r = runCli(["report", scenario]);
    expectRefused(r, "no schemaVersion");
    expect(r.stderr).not.toContain(`> ${scenario}`);
  });
});

describe("a finished run is never lost", () => {
  it("the results are out before the report; a report that then fails is one stderr line and exit 6", () => {
    // The module makes the report's path a folder when a worker imports it: after the path was checked.
    const blocked = join(TMP, "blocked.html");
    const scenario = customScenario(
      "blocks.json",
      "blocks.mjs",
      `import { mkdirSync } from "node:fs";\nimport { isMainThread } from "node:worker_threads";\n` +
        `if (!isMainThread) mkdirSync(${JSON.stringify(blocked)}, { recursive: true });\n` +
        "export default { coroutines: () => [1, 2], *coroutine(i) { yield; return i; } };\n",
    );
    const json = runCli(["run", scenario, ...SMALL, "--json", "--report", blocked]);
    expect(json.code).toBe(6);
    expectValidDocument(JSON.parse(json.stdout));
    expect(json.stderr).toMatch(/^coropool: the results are printed but the report was not written: .*it is a folder\n$/);
    spawnSync("rm", ["-rf", blocked]);
    const text = runCli(["run", scenario, ...SMALL, "--report", blocked]);
    expect(text.code).toBe(6);
    expect(text.stdout).toMatch(/^outcome +completed$/m);
    expect(text.stdout).not.toContain("report:");
  });
});

describe("any length of run", () => {
  it("coropool report draws a saved result of 100,000 samples per run", () => {
    const run = runCli(["stress", "--scenario", "test/fixtures/scenarios/stress-tiny.json", ...SMALL, "--json"]);
    const doc = JSON.parse(run.stdout) as { runs: { samples: unknown[]; threads: number }[] };
    const threads = doc.runs[0]!.threads;
    doc.runs[0]!.samples = Array.from({ length: 100_000 }, (_, i) => ({
      tMs: i * 5,
      vmas: 100 + (i === 77_777 ? 5000 : i % 100),
      pooledGlobal: i % 7,
      pooledThreads: new Array(threads).fill(i % 3),
      liveThreads: new Array(threads).fill(1),
    }));
    const saved = tmpFile("long.json", JSON.stringify(doc));
    const r = runCli(["report", saved, "-o", join(TMP, "long.html")]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const html = readFileSync(join(TMP, "long.html"), "utf8");
    expect(html).toContain('data-points="100000"');
  });
});

/** Starts the CLI, waits until `ready` shows on stdout or stderr, or the delay, then sends `signal`(s). */
function interruptCli(args: string[], signals: NodeJS.Signals[], afterMs: number): Promise<{ code: number | null; stdout: string; stderr: string; pid: number }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    setTimeout(() => signals.forEach((s) => child.kill(s)), afterMs);
    child.on("close", (code) => resolve({ code, stdout, stderr, pid: child.pid! }));
  });
}

const SLOW = customScenario(
  "slow.json",
  "slow.mjs",
  "export default { coroutines: () => Array.from({ length: 50 }, (_, i) => i), *coroutine(i) { const end = Date.now() + 60000; while (Date.now() < end) yield; return i; } };\n",
);

describe("signals", () => {
  it("SIGINT: the partial result, valid and marked interrupted, the report written and marked, exit 130", async () => {
    const report = join(TMP, "interrupted.html");
    const r = await interruptCli(["run", SLOW, "--policy", "legacy,batched", "--baseline-vmas", "100", "--json", "--report", report], ["SIGINT"], 2500);
    expect(r.code).toBe(130);
    const doc = JSON.parse(r.stdout) as { interrupted: boolean; runs: { interrupted: boolean; deadThreads: { reason: string }[] }[] };
    expectValidDocument(doc);
    expect(doc.interrupted).toBe(true);
    // No further policy started.
    expect(doc.runs).toHaveLength(1);
    expect(doc.runs[0]!.interrupted).toBe(true);
    expect(doc.runs[0]!.deadThreads[0]!.reason).toMatch(/^interrupted/);
    expect(r.stderr).toBe("coropool: interrupted by SIGINT: the results so far are printed, the report marked interrupted\n");
    expect(readFileSync(report, "utf8")).toContain('data-interrupted="true"');
  });

  it("SIGTERM: the partial table, exit 143", async () => {
    const r = await interruptCli(["run", SLOW, ...SMALL], ["SIGTERM"], 2500);
    expect(r.code).toBe(143);
    expect(r.stdout).toMatch(/^outcome +INTERRUPTED: 2 threads stopped$/m);
  });

  it("a second signal exits at once", async () => {
    const started = Date.now();
    const r = await interruptCli(["run", SLOW, ...SMALL], ["SIGINT", "SIGINT"], 2000);
    expect(r.code).toBe(130);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it.skipIf(kernelBackendUnavailableReason() !== null)("stress --backend kernel: the child process is killed too, none left behind", async () => {
    const child = spawn(process.execPath, [CLI, "stress", "--backend", "kernel", "--policy", "legacy", "--json"], { cwd: ROOT });
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    const closed = new Promise<number | null>((resolve) => child.on("close", resolve));
    // The legacy child runs to the host's real limit in a second or two: signal as soon as it exists.
    let children: string[] = [];
    const deadline = Date.now() + 20_000;
    while (children.length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      children = spawnSync("ps", ["-o", "pid=", "--ppid", String(child.pid)], { encoding: "utf8" }).stdout.split(/\s+/).filter((p) => p !== "");
    }
    expect(children.length).toBeGreaterThan(0);
    child.kill("SIGINT");
    const code = await closed;
    expect(code).toBe(130);
    const doc = JSON.parse(stdout) as { interrupted: boolean; children: { outcome: { kind: string } }[] };
    expectValidDocument(doc);
    expect(doc.children.map((c) => c.outcome.kind)).toEqual(["interrupted"]);
    for (const pid of children) expect(existsSync(`/proc/${pid}`)).toBe(false);
  });

  it("a reader that goes away (EPIPE) ends the output quietly", () => {
    const r = spawnSync("/bin/sh", ["-c", `"${process.execPath}" "${CLI}" run "${ECHO}" ${SMALL.join(" ")} --json | head -c 10`], { encoding: "utf8", cwd: ROOT });
    expect(r.stdout).toHaveLength(10);
    expect(r.stderr).toBe("");
  });
});

describe("every --json document validates in every outcome", () => {
  const cases: [string, string[], number][] = [
    ["completed", ["run", ECHO, ...SMALL], 0],
    ["aborted on VMA exhaustion", ["stress", "--scenario", "test/fixtures/scenarios/stress-tiny.json", "--policy", "legacy", "--baseline-vmas", "100", "--max-map-count", "300"], 3],
    [
      "a dead thread",
      [
        "run",
        customScenario(
          "dies.json",
          "dies.mjs",
          `import { isMainThread } from "node:worker_threads";\nexport default { coroutines: ({ thread }) => [thread], *coroutine(t) { yield; if (t === 1 && !isMainThread) process.exit(7); return t; } };\n`,
        ),
        ...SMALL,
      ],
      5,
    ],
    ["timed out", ["run", "test/fixtures/reliability/never-yields.json", ...SMALL, "--timeout-ms", "1000"], 5],
    ["failed coroutines", ["run", "test/fixtures/scenarios/custom-throws.json", ...SMALL], 4],
  ];
  it.each(cases)("%s", (_what, args, code) => {
    const r = runCli([...args, "--json"]);
    expect(r.code).toBe(code);
    const doc = JSON.parse(r.stdout) as { runs: { parts: unknown[] }[] };
    expectValidDocument(doc);
    if (code === 5) {
      expect(doc.runs[0]!.parts).toContain(null);
      expect(r.stderr.split("\n")).toHaveLength(2);
      expect(r.stderr).toMatch(/^coropool: batched: (worker died|timed out): T1: /);
    }
  });
  // The interrupted outcome is validated in "signals" above.
});

describe("bounded input", () => {
  it("an endless coroutines() stops at the documented limit: exit 2", () => {
    const scenario = customScenario("endless.json", "endless.mjs", "export default { *coroutines() { for (let i = 0; ; i++) yield i; }, *coroutine(i) { return i; } };\n");
    expectRefused(runCli(["run", scenario, ...SMALL]), "coroutines() on T0 gave more than 1000000 arguments; allowed: at most 1000000 coroutines per thread");
  });

  it("the stack table follows --stack-slots: too small says so and names the flag; enough runs", () => {
    const scenario = customScenario("many.json", "many.mjs", "export default { coroutines: () => Array.from({ length: 3000 }, (_, i) => i), *coroutine(i) { yield; return i; } };\n", { threads: 1 });
    const small = runCli(["run", scenario, ...SMALL, "--stack-slots", "1000"]);
    expect(small.code).toBe(5);
    expect(small.stderr).toContain("the stack table is full (1000 slots)");
    expect(small.stderr).toContain("--stack-slots");
    expect(runCli(["run", scenario, ...SMALL, "--stack-slots", "4000"]).code).toBe(0);
  });

  it.each([
    ["replay", (f: string) => ["replay", f, "--policy", "legacy"], "cannot read trace"],
    ["run", (f: string) => ["run", f], "cannot read the scenario file"],
    ["stress --scenario", (f: string) => ["stress", "--scenario", f], "cannot read the scenario file"],
    ["report", (f: string) => ["report", f, "-o", join(TMP, "never.html")], "cannot read result"],
  ])("%s of a FIFO with no writer is refused at once, never opened", (_what, args, message) => {
    expectRefused(runCli(args(FIFO), { timeoutMs: 10_000 }), new RegExp(`${message}.*it is a FIFO \\(named pipe\\), not a regular file`));
  });

  it("a trace line past 1 MiB and a scenario file past 1 MiB are refused", () => {
    const trace = tmpFile("long-line.trace", `threads 1\n# ${"x".repeat((1 << 20) + 10)}\n`);
    expectRefused(runCli(["replay", trace, "--policy", "legacy"]), "long-line.trace:2: a line longer than 1048576 bytes");
    const scenario = tmpFile("huge.json", JSON.stringify({ kind: "custom", module: "echo.mjs", description: "x".repeat(1 << 20) }));
    expectRefused(runCli(["run", scenario]), /cannot read the scenario file \(it is \d+ bytes, more than the 1048576 allowed\)/);
  });
});

describe("randread", () => {
  it("a device under which no request completes within a cell is refused (exit 2)", () => {
    const scenario = tmpFile("slow-device.json", JSON.stringify({ kind: "randread", device: { bandwidthMBps: 1e-300 } }));
    expectRefused(runCli(["run", scenario]), "so no request could complete");
    expectRefused(runCli(["randread", "--scenario", scenario, "--duration-ms", "10"]), "so no request could complete");
  });

  it("an aborted cell is named in the table, and one with no completed request says so instead of NaN", () => {
    const r = runCli(["randread", "--scenario", "test/fixtures/scenarios/randread-tiny.json", "--max-map-count", "1", "--baseline-vmas", "0"]);
    expect(r.code).toBe(3);
    expect(r.stdout).not.toContain("NaN");
    expect(r.stdout).toMatch(/^randread +4k +1 +0 \(aborted\) +0 \(aborted\) +n\/a$/m);
    expect(r.stdout).toMatch(/^legacy 4k iodepth 1: ABORTED: failed to /m);
    expect(r.stdout).toMatch(/none completed/);
  });
});

describe("exit statuses and messages", () => {
  it("outcome cells stay short with many threads", () => {
    const scenario = customScenario("nine.json", "nine.mjs", "export default { coroutines: () => [0], *coroutine() { for (;;) {} } };\n", { threads: 9 });
    const r = runCli(["run", scenario, ...SMALL, "--timeout-ms", "4000"]);
    expect(r.code).toBe(5);
    const outcome = r.stdout.split("\n").find((l) => l.startsWith("outcome"))!;
    expect(outcome).toMatch(/TIMED OUT: 9 threads stopped at \d+ ms$/);
    expect(outcome.length).toBeLessThan(80);
    expect(r.stderr).toMatch(/^coropool: batched: timed out: T\d: did not finish within 4000 ms; its worker was terminated \(and 8 more thread\(s\)\)\n$/);
    expect(r.stdout).not.toContain("never yields back");
  });

  it("thrown non-Error values and unclonable return values are described by their type", () => {
    const scenario = customScenario(
      "types.json",
      "types.mjs",
      "export default { coroutines: () => [0, 1, 2, 3], *coroutine(i) { yield; if (i === 1) throw 7; if (i === 2) throw { code: 1 }; if (i === 3) return () => i; return 10n; } };\n",
      { threads: 1 },
    );
    const r = runCli(["run", scenario, ...SMALL, "--json", "--allow-failures"]);
    expect(r.code).toBe(0);
    const part = (JSON.parse(r.stdout) as { runs: { parts: { failures: { message: string }[]; sampleResults: unknown[] }[] }[] }).runs[0]!.parts[0]!;
    expect(part.failures.map((f) => f.message)).toEqual(["a number: 7", 'an object: {"code":1}']);
    expect(part.sampleResults).toEqual(["(a bigint: 10)", "(a function)"]);
  });

  it("a run cut short by an abort says how many coroutines never started", () => {
    const scenario = customScenario("cut.json", "cut.mjs", "export default { coroutines: () => Array.from({ length: 500 }, (_, i) => i), *coroutine(i) { yield; return i; } };\n", { threads: 1 });
    const r = runCli(["run", scenario, "--policy", "legacy", "--baseline-vmas", "100", "--max-map-count", "400", "--json"]);
    expect(r.code).toBe(3);
    const part = (JSON.parse(r.stdout) as { runs: { parts: { coroutines: number; notStarted: number }[] }[] }).runs[0]!.parts[0]!;
    expect(part.coroutines).toBeLessThan(500);
    expect(part.coroutines + part.notStarted).toBe(500);
  });
});

describe("docs true to behaviour", () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");

  it("stress --help lists no --threads; demo --help no --policy, --seed or --baseline-vmas", () => {
    expect(runCli(["stress", "--help"]).stdout).not.toContain("--threads");
    const demo = runCli(["demo", "--help"]).stdout;
    for (const flag of ["--policy", "--seed", "--baseline-vmas"]) expect(demo).not.toContain(flag);
  });

  it("every exit status in exit.ts is in the README's table and in the main --help", () => {
    const help = runCli(["--help"]).stdout;
    for (const status of [0, 1, 2, 3, 4, 5, 6, 130, 143]) {
      expect(readme).toMatch(new RegExp(`^\\| (\\d+, )?${status}[ ,|]`, "m"));
      expect(help).toContain(String(status));
    }
  });

  it("docs/api.md names every bundled scenario (scenarios/*.json)", () => {
    const api = readFileSync(join(ROOT, "docs", "api.md"), "utf8");
    const bundledLine = /^- a bundled scenario's name: ([^;]*);/m.exec(api.replace(/\n  /g, " "))?.[1] ?? "";
    const names = readdirSync(join(ROOT, "scenarios")).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -".json".length));
    expect([...bundledLine.matchAll(/`"([^"]+)"`/g)].map((m) => m[1]).sort()).toEqual(names.sort());
  });

  it("the README's replay input limit is the streaming the code does, not a whole-file read", () => {
    expect(readme).not.toMatch(/read whole/);
    expect(readme).toMatch(/^\| trace or QEMU log for `replay`, `whatif`, `import` \| any size: read as a stream, plain or gzip[^|]*; lines of at most 1 MiB \|$/m);
  });

  it("the README cites no notes outside the repository and says npx coropool", () => {
    expect(readme).not.toMatch(/DESIGN/);
    expect(readme).toContain("npx coropool");
    expect(readme).toContain("died before any stack mapping failed");
  });

  it("bug-report.json's description names the guard-page message most runs print", () => {
    expect(readFileSync(join(ROOT, "scenarios", "bug-report.json"), "utf8")).toContain("failed to set up stack guard page");
  });
});
