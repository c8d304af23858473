import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { snapshot } from "../../src/host/snapshot.js";
import { Watcher } from "../../src/host/watcher.js";
import { projectRoot } from "../../src/project-root.js";
import { readMaxMapCount } from "../../src/vma/limits.js";
import { interleaved, markdownTable, type BenchSettings } from "../measure.js";

/** The C helper that maps stacks as qemu_alloc_stack does: `--maps T` fills it up to about T VMAs. */
const HELPER_SOURCE = join(projectRoot(), "test", "fixtures", "host", "stacks.c");
const CLI = join(projectRoot(), "dist", "src", "cli", "bin.js");
/** The issue's target: a snapshot costs at most this many times reading the same maps files with cat. */
const TARGET_RATIO = 1.5;
/** Bytes a raw read asks for at a time: as cat does (coreutils' 128 KiB). */
const RAW_READ_BYTES = 128 << 10;

interface ProcessSet {
  processes: number;
  /** The VMAs each process is filled up to; "limit": as many as the kernel lets it map (vm.max_map_count). */
  maps: number | "limit";
}

/** The issue's two sets: a few processes at the limit (65,530 here), and many ordinary ones. */
const FULL_SETS: ProcessSet[] = [
  { processes: 5, maps: "limit" },
  { processes: 50, maps: 2000 },
];
const QUICK_SETS: ProcessSet[] = [
  { processes: 1, maps: 2000 },
  { processes: 2, maps: 200 },
];


/** Builds the helper with gcc; throws where there is no gcc (the suite needs Linux and gcc). */
function buildHelper(dir: string): string {
  const out = join(dir, "stacks");
  execFileSync("gcc", ["-O2", "-o", out, HELPER_SOURCE, "-lpthread"], { stdio: ["ignore", "ignore", "inherit"] });
  return out;
}

/** Starts `set.processes` helpers, all mapping at once, and waits until each one says READY; their pids. */
async function startSet(binary: string, set: ProcessSet, maxMapCount: number, children: ChildProcess[]): Promise<number[]> {
  // Asked for twice the limit, the helper maps until the kernel refuses: the most one process can hold.
  const target = set.maps === "limit" ? 2 * maxMapCount : set.maps;
  const started = Array.from({ length: set.processes }, () => {
    // stderr ignored: at the limit each helper says where the kernel refused it (the snapshot counts its VMAs).
    const child = spawn(binary, ["--maps", String(target)], { stdio: ["ignore", "pipe", "ignore"] });
    children.push(child);
    return firstLine(child).then((line) => {
      if (!line.startsWith("READY ")) throw new Error(`the stacks helper said '${line}'`);
      return child.pid!;
    });
  });
  return Promise.all(started);
}

async function firstLine(child: ChildProcess): Promise<string> {
  for await (const line of createInterface({ input: child.stdout! })) return line;
  throw new Error("the stacks helper ended before it was ready");
}

/**
 * Every maps file through a `cat` of its own, as an operator's shell loop
 * runs them: one sh a round (not a spawn from Node per file, whose cost here
 * would dwarf cat's), a cat process per file, output to /dev/null.
 */
function catEach(pids: number[]): number {
  const r = spawnSync("sh", ["-c", 'for f do cat "$f" || exit 1; done', "sh", ...pids.map((pid) => `/proc/${pid}/maps`)], { stdio: ["ignore", "ignore", "inherit"] });
  if (r.status !== 0) throw new Error(`cat of the maps files exited ${r.status}`);
  return pids.length;
}

/** The floor: every maps file's bytes read into one buffer, nothing parsed (the kernel writing the file). */
function readEach(pids: number[], buf: Buffer): number {
  let bytes = 0;
  for (const pid of pids) {
    const fd = openSync(`/proc/${pid}/maps`, "r");
    try {
      for (let n = readSync(fd, buf, 0, buf.length, null); n > 0; n = readSync(fd, buf, 0, buf.length, null)) bytes += n;
    } finally {
      closeSync(fd);
    }
  }
  return bytes;
}

/** A snapshot of every process, as one watch sample takes them (max_map_count read once). */
function snapshotEach(pids: number[]): number {
  const maxMapCount = readMaxMapCount().value;
  let stacks = 0;
  for (const pid of pids) {
    const snap = snapshot(pid, { maxMapCount });
    if (snap.stacks === null) throw new Error(`pid ${pid}: ${snap.unreadable}`);
    stacks += snap.stacks;
  }
  return stacks;
}

const CLOCK_TICKS = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());

/** A process's user + system CPU milliseconds so far, from /proc/PID/stat (fields 14 and 15). */
function cpuMsOf(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, "latin1");
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS) * 1000;
}

/** When the CLI watch's steady share starts to count: after Node's start and the first sample, between two samples. */
const STEADY_FROM_MS = 2500;

/**
 * `coropool watch PIDS --interval 1 --json > /dev/null` for `ms` (plus half a
 * second, to end between two samples): its CPU share of one core over the
 * whole run, Node's start included, and from STEADY_FROM_MS on.
 */
async function cliWatchShare(pids: number[], ms: number): Promise<{ whole: number; steady: number }> {
  const child = spawn(process.execPath, [CLI, "watch", ...pids.map(String), "--interval", "1", "--json"], { stdio: ["ignore", "ignore", "inherit"] });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const t0 = performance.now();
  const steadyFrom = Math.min(STEADY_FROM_MS, ms / 2);
  await sleep(steadyFrom);
  const cpuAtSteady = cpuMsOf(child.pid!);
  const wallAtSteady = performance.now() - t0;
  await sleep(ms + 500 - steadyFrom);
  const cpu = cpuMsOf(child.pid!);
  const wall = performance.now() - t0;
  child.kill("SIGINT");
  await exited;
  return { whole: cpu / wall, steady: (cpu - cpuAtSteady) / (wall - wallAtSteady) };
}

/** The Watcher in this process sampling every second for `ms`: the CPU share of the sampling alone. */
async function inProcessWatchShare(pids: number[], ms: number): Promise<number> {
  const watcher = new Watcher({ pids });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let due = t0; due < t0 + ms; due += 1000) {
    await sleep(Math.max(0, due - performance.now()));
    for (const p of watcher.sample().processes) if (p.stacks === null) throw new Error(`pid ${p.pid}: ${p.unreadable}`);
  }
  await sleep(Math.max(0, t0 + ms - performance.now()));
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / 1000 / (performance.now() - t0);
}

const percent = (share: number) => `${(share * 100).toFixed(1)}%`;
const range = (xs: number[]) => (Math.min(...xs) === Math.max(...xs) ? `${xs[0]}` : `${Math.min(...xs)} to ${Math.max(...xs)}`);

/**
 * A snapshot of every process of a set against reading the same maps files
 * with `cat` (a process per file) and with plain reads (the kernel's cost of
 * writing them), interleaved in one process; then the CPU share of a watch.
 */
export async function runWatch(settings: BenchSettings): Promise<{ markdown: string }> {
  const sets = settings.quick ? QUICK_SETS : FULL_SETS;
  const rounds = settings.quick ? 2 : 21;
  const watchMs = settings.quick ? 1000 : 10_000;
  const dir = mkdtempSync(join(tmpdir(), "coropool-bench-watch-"));
  const children: ChildProcess[] = [];
  const buf = Buffer.allocUnsafe(RAW_READ_BYTES);
  const rows: (string | number)[][] = [];
  const verdicts: string[] = [];
  const maxMapCount = readMaxMapCount().value;
  try {
    const binary = buildHelper(dir);
    for (const set of sets) {
      const pids = await startSet(binary, set, maxMapCount, children);
      const vmas = pids.map((pid) => snapshot(pid, { maxMapCount }).vmas ?? 0);
      const label = `${set.processes} of ${set.maps === "limit" ? `${maxMapCount.toLocaleString("en-US")} (the limit)` : set.maps.toLocaleString("en-US")}`;
      const [cat, raw, snap] = await interleaved(rounds, [
        { name: "cat", run: async () => catEach(pids) },
        { name: "raw read", run: async () => readEach(pids, buf) },
        { name: "snapshot", run: async () => snapshotEach(pids) },
      ]);
      const cli = await cliWatchShare(pids, watchMs);
      const inProcess = await inProcessWatchShare(pids, watchMs);
      const bytes = raw!.units;
      rows.push([
        label,
        range(vmas),
        `${(bytes / 1e6).toFixed(2)} MB`,
        `${cat!.wallMs.toFixed(2)} ms`,
        `${raw!.wallMs.toFixed(2)} ms`,
        `${snap!.wallMs.toFixed(2)} ms`,
        `${(snap!.wallMs / cat!.wallMs).toFixed(2)}x`,
        `${(snap!.wallMs / raw!.wallMs).toFixed(2)}x`,
        percent(cli.whole),
        percent(cli.steady),
        percent(inProcess),
      ]);
      const ratio = snap!.wallMs / cat!.wallMs;
      verdicts.push(`- ${label}: snapshot/cat ${ratio.toFixed(2)}x, target at most ${TARGET_RATIO}x: ${ratio <= TARGET_RATIO ? "met" : "MISSED"}.`);
      for (const c of children.splice(0)) c.kill("SIGKILL");
    }
  } finally {
    for (const c of children) c.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    markdown: [
      `Processes of the C helper test/fixtures/host/stacks.c (\`--maps T\`: plain 1 MiB stacks as qemu_alloc_stack maps them, added until the process has about T VMAs). vm.max_map_count is ${maxMapCount} here: the first set's helpers map until the kernel refuses, the most one process can hold; "VMAs each" is what a snapshot counts.`,
      `Per round, every process of the set: \`cat /proc/PID/maps > /dev/null\` (a cat process per file, started by one \`sh -c 'for f do cat "$f"; done'\` a round, as an operator's loop; the starts of sh and of each cat included); the raw read (the file's bytes read into a ${RAW_READ_BYTES >> 10} KiB buffer with fs.readSync, nothing parsed: the kernel's cost of writing the file, the floor); a snapshot (\`snapshot(pid)\`: stat, cmdline, exe and its version (cached by the binary's identity), limits, the maps file streamed through the stack rule, stat again; max_map_count read once a round, as a watch sample does).`,
      `Wall milliseconds per round, medians of ${rounds} interleaved rounds (cat, raw read, snapshot, cat, …) in one process after one uncounted round.`,
      `CPU share of a ${watchMs / 1000} s watch at a 1 s interval, in percent of one core: \`coropool watch PIDS --interval 1 --json > /dev/null\` as a child process (user + system time from /proc/PID/stat), over the whole run (Node's start and the first sample's read of the binary included) and from 2.5 s on (steady), and the Watcher sampling in this process (process.cpuUsage).`,
      "",
      markdownTable(["set", "VMAs each", "maps bytes", "cat", "raw read", "snapshot", "snapshot/cat", "snapshot/raw read", "watch CPU: CLI, whole", "CLI, steady", "Watcher in-process"], rows),
      "",
      ...verdicts,
    ].join("\n"),
  };
}
