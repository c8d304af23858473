/**
 * `coropool watch` on real processes: the C helper (test/fixtures/host/stacks.c)
 * built under a QEMU binary's name, with stacks mapped as qemu_alloc_stack
 * maps them. One snapshot and a live watch, as a table and as JSON documents
 * the published schema validates; alerts; PIDs that cannot be watched.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT, runCli } from "./helpers/cli.js";
import { HOST_SKIP_REASON, StacksHelpers } from "./helpers/stacks-helper.js";

if (HOST_SKIP_REASON !== null) console.warn(`watch tests skipped: ${HOST_SKIP_REASON}`);
const describeHost = HOST_SKIP_REASON === null ? describe : describe.skip;

const helpers = new StacksHelpers();
afterAll(() => helpers.cleanUp());

const ajv = new Ajv2020({ allErrors: true, strict: false });
const validate = ajv.compile(JSON.parse(readFileSync(join(ROOT, "docs", "watch.schema.json"), "utf8")));

interface WatchDoc {
  command: string;
  maxMapCount: number;
  processes: { pid: number; vm: string | null; qemuVersion: string | null; policy: string | null; policySource: string | null; vmas: number; stacks: number; peakStacks: number; trend: number | null; unreadable?: string }[];
}

function parsed(line: string): WatchDoc {
  const doc = JSON.parse(line) as WatchDoc;
  expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
  return doc;
}

describeHost("coropool watch", () => {
  it("--once --json: a process's VMAs, stacks, version, policy and VM name, found among the host's QEMUs", async () => {
    const binary = helpers.build("qemu-system-x86_64", "QEMU emulator version 9.2.1 (coropool test)");
    const { child, next } = await helpers.start(binary, ["-name", "guest=alpha,debug-threads=on", "--stacks", "30", "--decoys"]);
    const vmas = Number((await next()).split(" ")[1]) - 1;
    for (const args of [["--once", "--json"], [String(child.pid), "--once", "--json"]]) {
      const r = runCli(["watch", ...args]);
      expect(r.code).toBe(0);
      const doc = parsed(r.stdout.trim());
      expect(doc.command).toBe("watch");
      const mine = doc.processes.find((p) => p.pid === child.pid)!;
      expect(mine).toMatchObject({ vm: "alpha", qemuVersion: "9.2.1", policy: "batched (uncapped)", policySource: "version", vmas, stacks: 30, peakStacks: 30, trend: null, ceiling: null, unplanned: "bad QEMU command line: --decoys has no argument" });
    }
    const table = runCli(["watch", String(child.pid), "--once"]);
    expect(table.stdout).toMatch(new RegExp(`^\\s*${child.pid}\\s+alpha\\s+9\\.2\\.1\\s+batched \\(uncapped\\)\\s+${vmas} / \\d+\\s+\\d+ \\([\\d.]+%\\)\\s+30\\s+30\\s+-\\s+-\\s+-$`, "m"));
    // Its command line is the helper's, not QEMU's: the ceiling says why it cannot be planned, and the watch goes on.
    expect(table.stdout).toMatch(new RegExp(`^${child.pid}: no ceiling: bad QEMU command line: --decoys has no argument$`, "m"));
  });

  it("--policy PID=P overrides the version's policy; --alert over the threshold is a stderr line and exit 3 with --once", async () => {
    const binary = helpers.build("qemu-kvm", "QEMU emulator version 8.2.0 (coropool test)");
    const { child, next } = await helpers.start(binary, ["--stacks", "10"]);
    await next();
    const r = runCli(["watch", String(child.pid), "--once", "--json", "--policy", `${child.pid}=batched`, "--alert", "0.01"]);
    expect(r.code).toBe(3);
    expect(parsed(r.stdout.trim()).processes[0]).toMatchObject({ qemuVersion: "8.2.0", policy: "batched", policySource: "given", stacks: 10 });
    expect(r.stderr.trim()).toMatch(new RegExp(`^coropool: alert: pid ${child.pid} uses \\d+ of \\d+ VMAs \\([\\d.]+%, over 0.01%\\); 10 coroutine stacks$`));
    const calm = runCli(["watch", String(child.pid), "--once", "--alert", "99"]);
    expect(calm.code).toBe(0);
    expect(calm.stderr).toBe("");
  });

  it("a live watch: one document a sample; the peak stays after stacks are unmapped and the trend goes negative; SIGTERM ends it with 0", async () => {
    const binary = helpers.build("qemu-system-aarch64");
    const { child, next } = await helpers.start(binary, ["--stacks", "50", "--unmap", "20"]);
    await next();
    const watch = spawn(process.execPath, [join(ROOT, "dist", "src", "cli", "bin.js"), "watch", String(child.pid), "--interval", "0.2", "--json"], { stdio: ["ignore", "pipe", "pipe"] });
    helpers.adopt(watch);
    let out = "";
    watch.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    const lines = () => out.split("\n").filter((l) => l !== "");
    await until(() => lines().length >= 2);
    child.kill("SIGUSR1");
    await next(); // DONE: 20 unmapped
    const seen = lines().length;
    await until(() => lines().length >= seen + 2);
    const exit = new Promise<number | null>((r) => watch.on("exit", (code) => r(code)));
    watch.kill("SIGTERM");
    expect(await exit).toBe(0);
    const docs = lines().map(parsed);
    const last = docs.at(-1)!.processes[0]!;
    expect(docs[0]!.processes[0]!.stacks).toBe(50);
    expect(last).toMatchObject({ stacks: 30, peakStacks: 50 });
    expect(last.trend).toBeLessThan(0);
  }, 30_000);

  it("--prometheus serves the values the watch prints; a port in use is bad input", async () => {
    const binary = helpers.build("qemu-system-riscv64", "QEMU emulator version 10.0.2 (coropool test)");
    const { child, next } = await helpers.start(binary, ["-name", "beta", "--stacks", "12"]);
    await next();
    const watch = spawn(process.execPath, [join(ROOT, "dist", "src", "cli", "bin.js"), "watch", String(child.pid), "--interval", "0.3", "--json", "--prometheus", "127.0.0.1:0"], { stdio: ["ignore", "pipe", "pipe"] });
    helpers.adopt(watch);
    let out = "";
    let err = "";
    watch.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    watch.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    await until(() => /serving (\S+)/.test(err) && out.includes("\n"));
    const url = /serving (\S+)/.exec(err)![1]!;
    const printed = parsed(out.split("\n")[0]!).processes[0]!;
    const metrics = await (await fetch(url)).text();
    const value = (name: string) => Number(new RegExp(`^${name}\\{[^}]*pid="${child.pid}"[^}]*\\} (\\S+)$`, "m").exec(metrics)?.[1]);
    expect(value("coropool_qemu_stacks")).toBe(printed.stacks);
    expect(value("coropool_qemu_vmas")).toBe(printed.vmas);
    expect(value("coropool_qemu_peak_stacks")).toBe(12);
    expect(metrics).toMatch(new RegExp(`coropool_qemu_stacks\\{pid="${child.pid}",vm="beta",qemu_version="10.0.2",policy="batched \\(uncapped\\)"\\} 12`));
    const port = new URL(url).port;
    const taken = runCli(["watch", String(child.pid), "--prometheus", `127.0.0.1:${port}`]);
    expect(taken.code).toBe(2);
    expect(taken.stderr.trim()).toBe(`coropool: cannot listen on 127.0.0.1:${port}: the port is in use`);
    const exit = new Promise<number | null>((r) => watch.on("exit", (code) => r(code)));
    watch.kill("SIGINT");
    expect(await exit).toBe(0);
  }, 30_000);

  it("PIDs: one that does not exist is bad input (exit 2, one line); among several it is a row that says so", async () => {
    const none = runCli(["watch", "4194303", "--once"]);
    expect(none.code).toBe(2);
    expect(none.stderr.trim()).toBe("coropool: watch: PID 4194303: no such process; allowed: a running process this user may read");
    const bad = runCli(["watch", "0", "--once"]);
    expect(bad.stderr.trim()).toBe("coropool: watch: bad PID 0; allowed: a process id, an integer from 1 to 4194304");
    const binary = helpers.build("stacks");
    const { child, next } = await helpers.start(binary, ["--stacks", "2"]);
    await next();
    const both = runCli(["watch", String(child.pid), "4194303", "--once"]);
    expect(both.code).toBe(0);
    expect(both.stdout).toMatch(/^4194303: no such process$/m);
    // Not named as a QEMU, but given by PID: watched all the same (its compiled-in version string is read too).
    expect(both.stdout).toMatch(new RegExp(`^${child.pid}\\s+-\\s+9\\.1\\.0\\s+batched \\(uncapped\\)\\s+\\d+ / \\d+`, "m"));
    expect(both.stdout).toMatch(/^4194303\s+-\s+-\s+-\s+unreadable\s/m);
    expect(runCli(["watch", "--interval", "0", "--once"]).stderr.trim()).toBe("coropool: bad --interval 0; allowed: a number of seconds from 0.1 to 86400");
    expect(runCli(["watch", "--alert", "100", "--once"]).stderr.trim()).toBe("coropool: bad --alert 100; allowed: a percentage of max_map_count, more than 0 and less than 100");
  });
});

async function until(done: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 50));
  }
}
