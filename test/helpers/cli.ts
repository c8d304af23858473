import { spawnSync } from "node:child_process";
import { join } from "node:path";

export const ROOT = join(import.meta.dirname, "..", "..");
export const CLI = join(ROOT, "dist", "src", "cli", "bin.js");

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI (npm test builds it first) with a bounded time. */
export function runCli(args: string[], options: { cwd?: string; timeoutMs?: number } = {}): CliRun {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? ROOT,
    encoding: "utf8",
    timeout: options.timeoutMs ?? 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The CLI's main() in this process, for the many checks of what one command
 * line answers (bad input above all): the same code as `coropool ARGS` but
 * for Node's start and the bin's signal handlers, so hundreds of them cost
 * what a few spawns do. `cwd` is changed for the call and put back.
 */
export async function runMain(args: string[], options: { cwd?: string } = {}): Promise<CliRun> {
  const { main } = await import("../../src/cli/main.js");
  const sink = () => ({ text: "", write(t: string) { this.text += t; return true; } });
  const out = sink();
  const err = sink();
  const before = process.cwd();
  process.chdir(options.cwd ?? ROOT);
  try {
    const code = await main(args, out as unknown as NodeJS.WriteStream, err as unknown as NodeJS.WriteStream);
    return { code, stdout: out.text, stderr: err.text };
  } finally {
    process.chdir(before);
  }
}
