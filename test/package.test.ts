/**
 * coropool as a user installs it: `npm pack`, the tarball installed into an
 * empty folder, then the CLI through `npx coropool` and a TypeScript program
 * compiled with tsc against the installed types. The program's results must
 * equal the CLI's for the same inputs.
 */
import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "./helpers/cli.js";

const exec = promisify(execFile);
const CONSUMER = join(ROOT, "test", "fixtures", "consumer");
const VERSION = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version as string;
const tmp = mkdtempSync(join(tmpdir(), "coropool-package-"));
const app = join(tmp, "app");
let packed: { filename: string; files: { path: string }[] };

async function npx(args: string[], timeout = 120_000) {
  return exec("npx", ["--no-install", "coropool", ...args], { cwd: app, timeout, maxBuffer: 64 << 20 });
}

beforeAll(async () => {
  // dist/ is built by `npm test`'s pretest; packing must not rebuild it.
  const { stdout } = await exec("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", tmp], { cwd: ROOT, timeout: 120_000 });
  packed = JSON.parse(stdout)[0];
  mkdirSync(app);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
  await exec("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", join(tmp, packed.filename)], { cwd: app, timeout: 240_000 });
}, 300_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("the packed package", () => {
  it("holds the built src and workers, the scenarios, docs, README and LICENSE, and no tests or benchmarks", () => {
    const paths = packed.files.map((f) => f.path);
    for (const must of ["dist/src/index.js", "dist/src/index.d.ts", "dist/src/cli/bin.js", "dist/workers/scenario-worker.js", "scenarios/bug-report.json", "docs/api.md", "docs/result.schema.json", "docs/scenario.schema.json", "README.md", "LICENSE", "package.json"]) {
      expect(paths).toContain(must);
    }
    const stray = paths.filter((p) => /^(dist\/)?(test|bench|examples)\//.test(p) || /^src\//.test(p) || p.endsWith(".map"));
    expect(stray).toEqual([]);
  });

  it("npx coropool --version prints the package's version", async () => {
    const { stdout } = await npx(["--version"]);
    expect(stdout.trim()).toBe(VERSION);
  });

  it("npx coropool demo --json prints the demo's document", async () => {
    const { stdout } = await npx(["demo", "--json"], 180_000);
    const doc = JSON.parse(stdout);
    expect(doc.command).toBe("demo");
    expect(doc.schemaVersion).toBe(1);
    expect(doc.stress.runs.map((r: { policy: string }) => r.policy)).toEqual(["legacy", "batched"]);
  }, 200_000);

  it("every --help example works from an empty folder (exit 0, or 3 where legacy runs out, as the help says)", async () => {
    const empty = join(tmp, "empty");
    mkdirSync(empty);
    const commands = ["demo", "replay", "import", "whatif", "stress", "imbalance", "randread", "run", "report"];
    // Each command's examples in its help's order (import's writes the trace its next one replays).
    const groups: string[][] = [];
    for (const c of commands) {
      const help = (await npx([c, "--help"])).stdout;
      const block = help.slice(help.indexOf("Examples:"));
      groups.push(block.split("\n").filter((l) => l.startsWith("  coropool ")).map((l) => l.trim()));
    }
    expect(groups.flat().length).toBeGreaterThan(15);
    // Left out for time only: the demo's three (each runs all of npm start; `demo --json` is run
    // above) and randread's full default table (about 20 s each; the short randread example runs).
    const slow = (e: string) => e.startsWith("coropool demo") || e === "coropool randread" || e === "coropool randread --report reports/randread.html";
    const env = { ...process.env, PATH: `${join(app, "node_modules", ".bin")}:${process.env.PATH}` };
    const run = (example: string) =>
      exec("bash", ["-c", example], { cwd: empty, env, timeout: 120_000, maxBuffer: 64 << 20 }).then(
        () => 0,
        (err: { code?: number; stderr?: string }) => (err.code === 3 ? 3 : `${err.code}: ${err.stderr}`),
      );
    // Three commands at a time, each command's examples in turn: most of an example is Node's start
    // and the wait for its children, not CPU.
    const todo = groups.map((g) => g.filter((e) => !slow(e)));
    const codes = new Map<string, number | string>();
    const worker = async () => {
      for (let g = todo.shift(); g !== undefined; g = todo.shift()) for (const e of g) codes.set(e, await run(e));
    };
    await Promise.all([worker(), worker(), worker()]);
    for (const [example, code] of codes) expect([0, 3], example).toContain(code);
  }, 300_000);

  it("a TypeScript program compiles against the installed types and gets what the CLI prints", async () => {
    const dir = join(app, "consumer");
    mkdirSync(dir);
    for (const f of ["main.ts", "workload.ts", "tsconfig.json", "scenario.json", "pool.trace"]) copyFileSync(join(CONSUMER, f), join(dir, f));
    mkdirSync(join(app, "node_modules", "@types"), { recursive: true });
    symlinkSync(join(ROOT, "node_modules", "@types", "node"), join(app, "node_modules", "@types", "node"));
    await exec(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", dir], { cwd: app, timeout: 120_000 });

    const scenario = join(dir, "scenario.json");
    const trace = join(dir, "pool.trace");
    const program = JSON.parse((await exec(process.execPath, [join(dir, "dist", "main.js"), scenario, trace], { cwd: app, timeout: 120_000 })).stdout);
    const cliRun = JSON.parse((await npx(["run", scenario, "--policy", "legacy,batched", "--baseline-vmas", "1000", "--json"])).stdout);
    const cliReplay = JSON.parse((await npx(["replay", trace, "--policy", "legacy,batched", "--max-map-count", "65530", "--baseline-vmas", "0", "--json"])).stdout);

    const exact = (doc: { runs: { policy: string; completed: boolean; stacks: unknown; vmas: { peak: number; final: number }; parts: unknown[] }[] }) =>
      doc.runs.map((r) => ({ policy: r.policy, completed: r.completed, stacks: r.stacks, peak: r.vmas.peak, final: r.vmas.final, parts: r.parts }));
    expect(exact(program.fromFile)).toEqual(exact(cliRun));
    expect(program.fromFile.scenario).toEqual(cliRun.scenario);
    expect(program.replayed).toEqual(cliReplay);
    expect(program.fromObject).toEqual([{ policy: "batched", created: 300, completed: true }]);
    expect(program.handle.runs).toEqual([
      { coroutines: 100, created: 100 },
      { coroutines: 100, created: 0 },
    ]);
    expect(program.handle.closed.vmas.backToBaseline).toBe(true);
    expect(program.handle.closed.invariantViolations).toEqual([]);
    expect(program.handle.afterClose).toBe("ERR_RUNTIME_CLOSED");
    expect(program.html).toBe(true);
  }, 300_000);
});
