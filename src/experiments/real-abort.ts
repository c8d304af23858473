/**
 * The real abort: vma-exhaustion with real stacks (mmap + mprotect) up to the
 * host's real vm.max_map_count, each policy in its own child process
 * (real-abort-child.ts), because a process that truly runs out of VMAs dies.
 * This process watches each child and reports how it ended.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import type { Readable } from "node:stream";
import type { PolicyName } from "../pools/index.js";
import { projectRoot } from "../project-root.js";
import type { RunResult } from "../runtime/result.js";
import type { StressScenario } from "../scenarios/types.js";
import { GUARD_PAGE_FAILED, STACK_ALLOC_FAILED } from "../errors.js";
import { readMaxMapCount } from "../vma/limits.js";
import { withSeed, type ExperimentOptions } from "./options.js";
import type { RealAbortChildArgs } from "./real-abort-child.js";
import { DEFAULT_STRESS_POLICIES } from "./stress.js";

/** How a child ended. */
export type ChildOutcome =
  | { kind: "completed"; result: Omit<RunResult, "samples"> }
  /** A stack mapping failed first: QEMU's own abort, with its message. */
  | { kind: "qemu-abort"; message: string; detail: string; signal: string | null }
  /** Something else failed first, most likely V8 needing a mapping of its own. */
  | { kind: "died"; signal: string | null; exitCode: number | null; lastWords: string[] }
  /** The experiment's AbortSignal fired (Ctrl-C): the child was killed before it ended. */
  | { kind: "interrupted" };

export interface ChildReport {
  policy: PolicyName;
  outcome: ChildOutcome;
  /** The child's last reported VMA count (its shared counter: baseline + 2 per stack). */
  lastVmas: number | null;
  /** The real count in the child's /proc/self/maps as it died, when it could say. */
  realVmasAtDeath: number | null;
  durationMs: number;
}

export interface RealAbortReport {
  command: "stress";
  backend: "kernel";
  scenarioFile: string;
  scenario: StressScenario;
  hostMaxMapCount: number;
  children: ChildReport[];
}

/** A child that has not finished by then is killed and reported as hung. */
const CHILD_TIMEOUT_MS = 180_000;
const LAST_WORDS = 8;
const MAX_STDERR_LINES = 200;

/** The child's entry point, spawned by path: the compiled real-abort-child.ts. */
const CHILD_ENTRY = ["dist", "src", "experiments", "real-abort-child.js"];

/**
 * Runs each policy in its own child process against the host's real limit
 * (never changing any system setting), and reports how each one ended. Of
 * the options only policies, seed and stackSize apply: the limit is the
 * host's, the backend is kernel, and the child is watched, not sampled.
 */
export async function runRealAbort(scenario: StressScenario, file: string, options: ExperimentOptions): Promise<RealAbortReport> {
  const seeded = withSeed(scenario, options);
  const stackSize = options.stackSize;
  const children: ChildReport[] = [];
  for (const policy of options.policies ?? DEFAULT_STRESS_POLICIES) {
    if (options.signal?.aborted) break;
    children.push(await runChild({ scenario: seeded, policy, ...(stackSize ? { stackSize } : {}) }, options.signal));
  }
  return { command: "stress", backend: "kernel", scenarioFile: file, scenario: seeded, hostMaxMapCount: readMaxMapCount().value, children };
}

/**
 * Runs one child and watches it. The child never outlives this process: it
 * is killed when `signal` fires, at its time limit, and when this process
 * exits (a second Ctrl-C exits at once).
 */
function runChild(args: RealAbortChildArgs, signal: AbortSignal | undefined): Promise<ChildReport> {
  const started = Date.now();
  const entry = join(projectRoot(), ...CHILD_ENTRY);
  // No core file from the abort: `ulimit -c 0` only for this child's shell.
  const child = spawn("/bin/sh", ["-c", 'ulimit -c 0; exec "$0" "$@"', process.execPath, entry, JSON.stringify(args)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let lastVmas: number | null = null;
  let realVmasAtDeath: number | null = null;
  let result: ChildOutcome | null = null;
  const stderrLines: string[] = [];
  const finishStdout = eachLine(child.stdout, (line) => {
    if (line.startsWith("vmas ")) lastVmas = Number(line.slice(5));
    else if (line.startsWith("result ")) result = { kind: "completed", result: JSON.parse(line.slice(7)) };
  });
  const finishStderr = eachLine(child.stderr, (line) => {
    if (line.startsWith("vmas ")) lastVmas = Number(line.slice(5));
    else if (line.startsWith("real-vmas ")) realVmasAtDeath = Number(line.slice(10)) || null;
    else if (line.trim() !== "") stderrLines.push(line);
    if (stderrLines.length > MAX_STDERR_LINES) stderrLines.shift();
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), CHILD_TIMEOUT_MS);
  let interrupted = false;
  const kill = () => child.kill("SIGKILL");
  const interrupt = () => {
    interrupted = true;
    kill();
  };
  process.once("exit", kill);
  if (signal?.aborted) interrupt();
  else signal?.addEventListener("abort", interrupt, { once: true });
  return new Promise((resolve) => {
    child.on("close", (exitCode, killedBy) => {
      clearTimeout(timer);
      process.removeListener("exit", kill);
      signal?.removeEventListener("abort", interrupt);
      finishStdout();
      finishStderr();
      const outcome: ChildOutcome = interrupted
        ? { kind: "interrupted" }
        : result && exitCode === 0
          ? result
          : classifyDeath(stderrLines, exitCode, killedBy);
      resolve({ policy: args.policy, outcome, lastVmas, realVmasAtDeath, durationMs: Date.now() - started });
    });
  });
}

/** Calls `onLine` for every complete line of a stream; the returned function flushes the last partial line. */
function eachLine(stream: Readable, onLine: (line: string) => void): () => void {
  let pending = "";
  stream.setEncoding("utf8").on("data", (chunk: string) => {
    const lines = (pending + chunk).split("\n");
    pending = lines.pop()!;
    lines.forEach(onLine);
  });
  return () => {
    if (pending !== "") onLine(pending);
    pending = "";
  };
}

function classifyDeath(stderr: string[], exitCode: number | null, signal: NodeJS.Signals | null): ChildOutcome {
  const qemu = stderr.find((l) => l.startsWith(STACK_ALLOC_FAILED) || l.startsWith(GUARD_PAGE_FAILED));
  if (qemu) {
    const message = qemu.startsWith(STACK_ALLOC_FAILED) ? STACK_ALLOC_FAILED : GUARD_PAGE_FAILED;
    return { kind: "qemu-abort", message, detail: qemu.slice(message.length).replace(/^:\s*/, ""), signal };
  }
  return { kind: "died", signal, exitCode, lastWords: stderr.slice(-LAST_WORDS) };
}

/** How a child ended, in one phrase (the terminal and the HTML report both show it). */
export function describeChildOutcome(c: ChildReport): string {
  const o = c.outcome;
  if (o.kind === "completed") return `completed (peak ${o.result.vmas.peak} VMAs)`;
  if (o.kind === "interrupted") return "interrupted: the child was stopped before it ended";
  if (o.kind === "qemu-abort") return `aborted: ${o.message}${o.detail ? ` (${o.detail})` : ""}, ${o.signal ?? "no signal"}`;
  return `died before any stack mapping failed: ${o.signal ?? `exit code ${o.exitCode}`}`;
}
