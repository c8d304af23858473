/**
 * One rule for every file coropool writes (src/output-file.ts), checked for
 * each output flag: import -o, --report (whatif's and run's) and report -o.
 * A symlink is written through, a missing folder is made, a FIFO is refused,
 * an input (the log, the scenario, its workload module, the saved result) is
 * never overwritten; no temporary file is left by a failure, a full disk or a
 * signal.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { CLI, ROOT, runCli } from "./helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "coropool-outputs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const enter = (ctx: string, co: string) => `qemu_aio_coroutine_enter ctx ${ctx} from 0x7f06743fed88 to ${co} opaque (nil)`;
const terminate = (co: string) => `qemu_coroutine_terminate self ${co}`;

/** A QEMU log: `pairs` times, 4 coroutines entered on one AioContext, then terminated. */
function qemuLog(pairs: number): string {
  const block = ["0x1", "0x2", "0x3", "0x4"].map((co) => enter("0xa0", co)).concat(["0x1", "0x2", "0x3", "0x4"].map(terminate)).join("\n") + "\n";
  return block.repeat(pairs);
}

let made = 0;
/** A fresh folder for one case, with the inputs every command needs. */
function caseFolder(): { at: (name: string) => string; log: string; result: string; scenario: string; module: string } {
  const folder = join(dir, `case-${made++}`);
  mkdirSync(folder);
  const at = (name: string) => join(folder, name);
  writeFileSync(at("vm.log"), qemuLog(50));
  writeFileSync(at("echo.mjs"), "export default { coroutines: () => [1, 2], *coroutine(i) { yield; return i; } };\n");
  writeFileSync(at("s.json"), JSON.stringify({ kind: "custom", module: "echo.mjs", threads: 1 }));
  writeFileSync(at("result.json"), SAVED_RESULT);
  return { at, log: at("vm.log"), result: at("result.json"), scenario: at("s.json"), module: at("echo.mjs") };
}

/** A saved whatif result, for report -o. */
const SAVED_RESULT = (() => {
  const folder = mkdtempSync(join(dir, "saved-"));
  writeFileSync(join(folder, "vm.log"), qemuLog(5));
  const r = runCli(["whatif", join(folder, "vm.log"), "--max-map-count", "65530", "--baseline-vmas", "100", "--json"]);
  if (r.code !== 0) throw new Error(r.stderr);
  return r.stdout;
})();

type Case = ReturnType<typeof caseFolder>;
/** Each output flag: the command line that writes `out`, and what the written file starts with. */
const OUTPUTS: { name: string; args: (c: Case, out: string) => string[]; starts: string }[] = [
  { name: "import -o", args: (c, out) => ["import", c.log, "-o", out], starts: "# coropool trace imported" },
  { name: "whatif --report", args: (c, out) => ["whatif", c.log, "--max-map-count", "65530", "--baseline-vmas", "100", "--report", out], starts: "<!doctype html>" },
  { name: "report -o", args: (c, out) => ["report", c.result, "-o", out], starts: "<!doctype html>" },
];

function expectOneLine(r: { code: number | null; stderr: string }, code: number, text: string): void {
  expect(r.code, r.stderr).toBe(code);
  expect(r.stderr.trim().split("\n"), r.stderr).toHaveLength(1);
  expect(r.stderr).toContain(text);
}

/** The hidden temporary files of an output (".NAME.PID.….tmp"), which must never be left. */
function temporaries(folder: string): string[] {
  return readdirSync(folder).filter((f) => f.startsWith(".") && f.includes(".tmp"));
}

describe.each(OUTPUTS)("$name", ({ args, starts }) => {
  it("through a symlink to a regular file: the file is replaced, the link stays", () => {
    const c = caseFolder();
    writeFileSync(c.at("old.txt"), "old");
    symlinkSync("old.txt", c.at("link.out"));
    const r = runCli(args(c, c.at("link.out")));
    expect(r.code, r.stderr).toBe(0);
    expect(lstatSync(c.at("link.out")).isSymbolicLink()).toBe(true);
    expect(readlinkSync(c.at("link.out"))).toBe("old.txt");
    expect(readFileSync(c.at("old.txt"), "utf8").toLowerCase().startsWith(starts)).toBe(true);
    expect(temporaries(c.at("."))).toEqual([]);
  });

  it("into a missing folder: the folders are made", () => {
    const c = caseFolder();
    const out = c.at(join("new", "deeper", "file.out"));
    const r = runCli(args(c, out));
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(out, "utf8").toLowerCase().startsWith(starts)).toBe(true);
    expect(readdirSync(c.at(join("new", "deeper")))).toEqual(["file.out"]);
  });

  it("onto a FIFO, or a symlink to one: refused before anything runs, exit 2, the FIFO left as it is", () => {
    const c = caseFolder();
    expect(spawnSync("mkfifo", [c.at("pipe")]).status).toBe(0);
    symlinkSync("pipe", c.at("to-pipe"));
    expectOneLine(runCli(args(c, c.at("pipe"))), 2, "it is a FIFO (named pipe), not a regular file");
    expectOneLine(runCli(args(c, c.at("to-pipe"))), 2, `it is a symlink to '${c.at("pipe")}', and it is a FIFO`);
    expect(lstatSync(c.at("pipe")).isFIFO()).toBe(true);
  });

  it("onto its input, by a symlink or a hard link: refused, exit 2, the input unchanged", () => {
    const c = caseFolder();
    const input = args(c, "OUT")[1]!;
    const before = readFileSync(input, "utf8");
    symlinkSync(input, c.at("input-link"));
    linkSync(input, c.at("input-hard"));
    for (const out of [input, c.at("input-link"), c.at("input-hard")]) {
      expectOneLine(runCli(args(c, out)), 2, `it is the input file '`);
    }
    expect(readFileSync(input, "utf8")).toBe(before);
  });
});

describe("run --report: every file the run reads is an input", () => {
  it("the scenario's own workload module is refused, also through a link; the module is unchanged", () => {
    const c = caseFolder();
    const source = readFileSync(c.module, "utf8");
    symlinkSync("echo.mjs", c.at("page.html"));
    for (const out of [c.module, c.at("page.html")]) {
      const r = runCli(["run", c.scenario, "--policy", "legacy", "--report", out]);
      expectOneLine(r, 2, `it is the input file '${c.module}', which would be lost`);
      expect(r.stdout).toBe("");
    }
    expect(readFileSync(c.module, "utf8")).toBe(source);
  });
});

describe("import: a full disk, a file too large, a signal: one line, and no temporary file left", () => {
  /** A log whose trace is about 1.5 MB. */
  const bigLog = join(dir, "big.log");
  writeFileSync(bigLog, qemuLog(12_000));

  // A real full disk without touching the host: a 256 KiB tmpfs mounted in a
  // private user and mount namespace (unshare -rm), gone with the process.
  const namespaces = spawnSync("unshare", ["-rm", "true"]).status === 0;
  it.skipIf(!namespaces)("a full disk (ENOSPC, a real tmpfs): says the disk is full and where, exit 6", () => {
    const mount = mkdtempSync(join(dir, "tmpfs-"));
    const out = join(mount, "vm.trace");
    const script = `mount -t tmpfs -o size=256k none "$1" && "$2" "$3" import "$4" -o "$5"; echo "status $?"; ls -A "$1"`;
    const r = spawnSync("unshare", ["-rm", "sh", "-c", script, "sh", mount, process.execPath, CLI, bigLog, out], { encoding: "utf8", timeout: 60_000 });
    expect(r.stdout.split("\n")[0]).toBe("status 6");
    // Nothing left on the full disk: neither the output nor a temporary file.
    expect(r.stdout.split("\n").slice(1).join("")).toBe("");
    expect(r.stderr).toBe(`coropool: cannot write -o '${out}': the disk is full (ENOSPC) in '${mount}'; free some space there or write elsewhere\n`);
  });

  // RLIMIT_FSIZE on the child alone (prlimit): its writes past 200 KB fail with EFBIG, as on a quota.
  it("a file larger than the process may write (EFBIG, prlimit --fsize): one line, exit 6, the old output kept", () => {
    const folder = mkdtempSync(join(dir, "fsize-"));
    const out = join(folder, "vm.trace");
    writeFileSync(out, "threads 1\n");
    const r = spawnSync("prlimit", ["--fsize=200000", process.execPath, CLI, "import", bigLog, "-o", out], { encoding: "utf8", timeout: 60_000 });
    expect(r.status, r.stderr).toBe(6);
    expect(r.stderr).toBe(`coropool: cannot write -o '${out}': the file is larger than this process may write (EFBIG, see ulimit -f) in '${folder}'\n`);
    expect(readdirSync(folder)).toEqual(["vm.trace"]);
    expect(readFileSync(out, "utf8")).toBe("threads 1\n");
  });

  /** A log of about 300 MB when inflated, 1 MB of gzip (members of one block, concatenated). */
  const hugeLog = join(dir, "huge.log.gz");
  const member = gzipSync(Buffer.from(qemuLog(10_000)));
  writeFileSync(hugeLog, Buffer.concat(Array.from({ length: 400 }, () => member)));

  it.each([
    [["SIGINT"], 130],
    [["SIGTERM"], 143],
    [["SIGINT", "SIGINT"], 130],
  ])("stopped by %j: exit %i, the output as it was, no temporary file", async (signals, code) => {
    const folder = mkdtempSync(join(dir, "signal-"));
    const out = join(folder, "vm.trace");
    writeFileSync(out, "threads 1\n");
    const child = spawn(process.execPath, [CLI, "import", hugeLog, "-o", out], { cwd: ROOT });
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    const closed = new Promise<number | null>((resolve) => child.on("close", resolve));
    // Signal once the import is writing: its first temporary file exists.
    const deadline = Date.now() + 20_000;
    while (temporaries(folder).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(temporaries(folder).length).toBeGreaterThan(0);
    for (const s of signals) child.kill(s as NodeJS.Signals);
    expect(await closed).toBe(code);
    expect(readdirSync(folder)).toEqual(["vm.trace"]);
    expect(readFileSync(out, "utf8")).toBe("threads 1\n");
    if (signals.length === 1) expect(stdout).toMatch(/^stopped after line \d+: .*vm\.trace was not written \(it is as it was\)$/m);
  }, 30_000);
});
