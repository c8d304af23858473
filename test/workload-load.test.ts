/**
 * Issue 17, item 2: a workload module is loaded where it cannot block the main
 * thread (in the workers, after each has claimed its thread), and its loading
 * counts against the run's time limit. A module whose top level never ends is
 * stopped by the timeout or a signal like a coroutine that never yields back.
 *
 * Every case runs in a child process with a deadline, so the old behaviour (a
 * main thread spinning forever, deaf to timers and signals) fails the test
 * instead of hanging it. The bad-module messages are kept by the existing
 * tests (bad-input, cli-runtime, api, runtime-e2e).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CLI, ROOT } from "./helpers/cli.js";

const TMP = mkdtempSync(join(tmpdir(), "coropool-workload-load-"));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

function tmpFile(name: string, text: string): string {
  const path = join(TMP, name);
  writeFileSync(path, text);
  return path;
}

/**
 * A module whose top level never finishes (it never gets as far as its
 * default export); each import first appends a byte to its own marker file,
 * so a test knows how many threads are loading it.
 */
function spinningModule(name: string): { module: string; marks: () => number } {
  const marker = join(TMP, `${name}.marks`);
  writeFileSync(marker, "");
  const module = tmpFile(
    `${name}.mjs`,
    `import { appendFileSync } from "node:fs";\nappendFileSync(${JSON.stringify(marker)}, "x");\nwhile (true) {}\nexport default { coroutines: () => [], *coroutine() {} };\n`,
  );
  return { module, marks: () => readFileSync(marker, "utf8").length };
}

function spinningScenario(name: string): { scenario: string; marks: () => number } {
  const { marks } = spinningModule(name);
  const scenario = tmpFile(`${name}.json`, JSON.stringify({ kind: "custom", module: `${name}.mjs`, threads: 2, maxMapCount: 100000 }));
  return { scenario, marks };
}

/** Resolves once `ready()` holds (polled), or at the deadline. */
async function until(ready: () => boolean): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  while (!ready() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}
const COUNT = join(ROOT, "test", "fixtures", "workloads", "count.mjs");
const RUN_FLAGS = ["--policy", "batched", "--baseline-vmas", "100"];
/** Past this a child is killed and the case fails: the old code never ends at all. */
const DEADLINE_MS = 20_000;
/** Each case waits for its child, which the deadline bounds. */
const CASE_TIMEOUT_MS = DEADLINE_MS + 10_000;

interface Child {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs node with `args`; sends `signal` once `signalWhen()` holds, if given; kills it at the deadline. */
function runChild(args: string[], signal?: { name: NodeJS.Signals; when: () => boolean }): Promise<Child> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: ROOT });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const killer = setTimeout(() => child.kill("SIGKILL"), DEADLINE_MS);
    let closed = false;
    if (signal) void until(() => closed || signal.when()).then(() => closed || child.kill(signal.name));
    child.on("close", (code, sig) => {
      closed = true;
      clearTimeout(killer);
      resolve({ code, signal: sig, stdout, stderr });
    });
  });
}

describe("a module whose top level never ends", () => {
  it("coropool run --timeout-ms: stopped by the time limit, exit 5 with one line, its loading threads reported dead", async () => {
    const { scenario, marks } = spinningScenario("timeout");
    const r = await runChild([CLI, "run", scenario, ...RUN_FLAGS, "--timeout-ms", "4000", "--json"]);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(5);
    // One line: the threads stopped (or, on a machine too busy to start a worker in time, that none started).
    expect(r.stderr).toMatch(/^coropool: batched: timed out[^\n]*\n$/);
    const doc = JSON.parse(r.stdout) as { runs: { timedOut: boolean; completed: boolean; deadThreads: { reason: string }[] }[] };
    expect(doc.runs).toHaveLength(1);
    expect(doc.runs[0]).toMatchObject({ timedOut: true, completed: false });
    // Every thread that began the import had claimed its thread, and is reported as a stopped one.
    const dead = doc.runs[0]!.deadThreads;
    expect(dead.length).toBeGreaterThanOrEqual(marks());
    for (const d of dead) expect(d.reason).toBe("did not finish within 4000 ms; its worker was terminated");
  }, CASE_TIMEOUT_MS);

  it.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)("coropool run: %s while both threads load stops it (exit %i)", async (name, status) => {
    const { scenario, marks } = spinningScenario(name);
    const r = await runChild([CLI, "run", scenario, ...RUN_FLAGS], { name, when: () => marks() === 2 });
    expect(marks()).toBe(2);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(status);
    expect(r.stdout).toMatch(/^outcome +INTERRUPTED: 2 threads stopped$/m);
  }, CASE_TIMEOUT_MS);

  it("runtime.run with timeoutMs: returns timed out while the caller's own timer keeps firing, and the runtime carries on", async () => {
    const { module, marks } = spinningModule("hosted");
    // The caller counts its timer's ticks during the run: a main thread busy
    // importing the module would count none (and never return).
    const program = tmpFile(
      "caller.mjs",
      `import { startRuntime } from ${JSON.stringify(join(ROOT, "dist", "src", "index.js"))};
const runtime = await startRuntime({ threads: 2, policy: "batched", baselineVmas: 100, maxMapCount: 100000 });
let ticks = 0;
const timer = setInterval(() => ticks++, 20);
const spun = await runtime.run(${JSON.stringify(module)}, { timeoutMs: 4000 });
clearInterval(timer);
const next = await runtime.run(${JSON.stringify(COUNT)}, { options: { coroutines: 3, hops: 1 } });
const closed = await runtime.close();
console.log(JSON.stringify({ ticks, timedOut: spun.timedOut, dead: spun.deadThreads.map((d) => d.reason), nextCompleted: next.completed, violations: closed.invariantViolations }));
`,
    );
    // The child ends on its own: no worker, timer or handle is left behind.
    const r = await runChild([program]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { ticks: number; timedOut: boolean; dead: string[]; nextCompleted: number; violations: string[] };
    expect(out.ticks).toBeGreaterThan(0);
    expect(out.timedOut).toBe(true);
    expect(out.dead.length).toBeGreaterThanOrEqual(marks());
    for (const reason of out.dead) expect(reason).toBe("did not finish within 4000 ms; its worker was terminated");
    expect(out.nextCompleted).toBe(2 * 3);
    expect(out.violations).toEqual([]);
  }, CASE_TIMEOUT_MS);
});
