/**
 * The C helper of test/fixtures/host/stacks.c: a process whose maps look
 * like a QEMU's (stacks as qemu_alloc_stack maps them, decoys beside them),
 * built with gcc into a temporary folder, for the host floor's tests and the
 * watch command's.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { ROOT } from "./cli.js";

const SOURCE = join(ROOT, "test", "fixtures", "host", "stacks.c");
export const GCC = ["/usr/bin/gcc", "/usr/local/bin/gcc"].find((p) => existsSync(p)) ?? null;
/** Why the host tests cannot run here, or null. */
export const HOST_SKIP_REASON = GCC === null || process.platform !== "linux" ? "they need Linux and gcc to build test/fixtures/host/stacks.c" : null;

export class StacksHelpers {
  readonly dir = mkdtempSync(join(tmpdir(), "coropool-host-"));
  private readonly children: ChildProcess[] = [];

  /** The helper built as `name` (a QEMU's binary name makes it one to a watch), with the version string given. */
  build(name: string, version?: string): string {
    const out = join(this.dir, name);
    const define = version === undefined ? [] : [`-DVERSION_TEXT="${version}"`];
    execFileSync(GCC!, ["-O2", "-o", out, SOURCE, "-lpthread", ...define]);
    return out;
  }

  /** Starts a helper and gives the way to its lines ("READY vmas zombiePid", then "DONE vmas"). */
  async start(binary: string, args: string[]): Promise<{ child: ChildProcess; next: () => Promise<string> }> {
    const child = spawn(binary, args, { stdio: ["ignore", "pipe", "inherit"] });
    this.children.push(child);
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const next = async (): Promise<string> => {
      const r = await lines.next();
      if (r.done) throw new Error(`${binary} ended before printing a line`);
      return r.value;
    };
    return { child, next };
  }

  /** Another child to kill at clean-up. */
  adopt(child: ChildProcess): ChildProcess {
    this.children.push(child);
    return child;
  }

  /** Kills every helper started and removes the folder. */
  cleanUp(): void {
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    rmSync(this.dir, { recursive: true, force: true });
  }
}
