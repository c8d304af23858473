/**
 * One contract at every door (docs/design.md#options-one-contract-at-every-door):
 * the library refuses what the CLI refuses, with the same words under the
 * name its caller wrote; unknown keys name the nearest known one; an old
 * name still works, with a deprecation warning; and no refusal leaves
 * anything running (the property runs in a child process that must exit by
 * itself).
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CoropoolError, InputError, renderReport, replay, run, startRuntime, whatIf } from "../src/index.js";
import { runCli, ROOT } from "./helpers/cli.js";

/** The refusal a call gives (it must be one). */
async function refusal(call: () => unknown): Promise<CoropoolError> {
  try {
    await call();
  } catch (err) {
    expect(err).toBeInstanceOf(CoropoolError);
    return err as CoropoolError;
  }
  throw new Error("expected a refusal");
}

describe("the library checks what the CLI checks", () => {
  it.each([
    ["maxMapCount", 1e12, "bad maxMapCount 1000000000000; allowed: an integer from 1 to 2147483647"],
    ["baselineVmas", 1e10, "bad baselineVmas 10000000000; allowed: an integer from 0 to 2147483647"],
    ["timeoutMs", -1, "bad timeoutMs -1; allowed: an integer from 100 to 86400000"],
    ["threads", 100, "bad threads 100; allowed: an integer from 1 to 64"],
    ["backend", "nope", 'bad backend "nope"; allowed: simulated, kernel'],
    ["seed", "7", 'bad seed "7"; allowed: an integer from 0 to 4294967295'],
    ["onProgress", 5, "bad onProgress 5; allowed: a function"],
    ["signal", {}, "bad signal {}; allowed: an AbortSignal (e.g. AbortController's signal, AbortSignal.timeout(ms))"],
    ["policies", ["legacy", "fifo"], 'bad policies ["legacy","fifo"] (fifo is not allowed); allowed: legacy, batched, none, elastic or a list of them, each once'],
  ])("run(): %s %j is refused before anything runs", async (name, value, message) => {
    const err = await refusal(() => run("stress-small", { [name]: value }));
    expect(err).toBeInstanceOf(InputError);
    expect(err.code).toBe("ERR_BAD_OPTION");
    expect(err.message).toBe(message);
  });

  it("the CLI's message is the API's with the flag in place of the key", async () => {
    const pairs: [string[], Record<string, unknown>][] = [
      [["--max-map-count", "0"], { maxMapCount: 0 }],
      [["--threads", "65"], { threads: 65 }],
      [["--policy", "legacy,legacy"], { policies: ["legacy", "legacy"] }],
      [["--timeout-ms", "99"], { timeoutMs: 99 }],
    ];
    for (const [flags, options] of pairs) {
      const cli = runCli(["imbalance", ...flags]);
      expect(cli.code).toBe(2);
      const api = await refusal(() => run("imbalance", options));
      const key = Object.keys(options)[0]!;
      const flag = flags[0]!;
      expect(cli.stderr.trim()).toBe(`coropool: ${api.message.replace(`bad ${key} `, `bad ${flag} `).replace(/\["legacy","legacy"\]/, "legacy,legacy")}`);
    }
  });

  it("threads that do not fit the scenario's kind are refused at both doors with the kind's own rule", async () => {
    expect((await refusal(() => run("imbalance", { threads: 1 }))).message).toBe(
      "bad threads 1; allowed: an integer from 2 to 64 (the bursting thread and at least one other) for kind 'imbalance'",
    );
    expect((await refusal(() => run("stress-small", { threads: 2 }))).message).toMatch(/^bad threads 2; allowed: none for kind 'vma-exhaustion'/);
  });

  it("an unknown key names the nearest known option", async () => {
    const err = await refusal(() => run("stress-small", { maxMapCont: 5 } as never));
    expect(err.code).toBe("ERR_UNKNOWN_OPTION");
    expect(err.message).toMatch(/^run\(\): unknown option maxMapCont; did you mean maxMapCount\? allowed: policies, threads, maxMapCount,/);
    // replay(path, { policy }) was a TypeError deep inside; now it says what was meant.
    const replayErr = await refusal(() => replay("imbalance", { policy: "legacy" } as never));
    expect(replayErr.message).toMatch(/^replay\(\): unknown option policy; did you mean policies\?/);
    const cli = runCli(["replay", "imbalance", "--policy", "legacy", "--max-map-cont", "5"]);
    expect(cli.stderr).toMatch(/^coropool: replay: unknown option --max-map-cont; did you mean --max-map-count\?/);
  });

  it("replay() without policies, whatIf() with uncapped alone, the pool increase twice: one line each", async () => {
    expect((await refusal(() => replay("imbalance", {} as never))).message).toBe("replay(): missing policies; allowed: legacy, batched, none, elastic or a list of them");
    expect((await refusal(() => whatIf("imbalance", { uncapped: true }))).message).toBe("uncapped needs policies: the default list runs batched both uncapped and capped");
    expect((await refusal(() => whatIf("imbalance", { poolIncrease: 1, virtioBlk: "1x4" }))).message).toBe(
      "poolIncrease and virtioBlk together; give the increase or the disks it comes from, not both",
    );
    // QEMU refuses a virtio-blk queue-size of 2 (hw/block/virtio-blk.c "must be > 2"): so does every door.
    expect((await refusal(() => whatIf("imbalance", { virtioBlk: "1x2" }))).message).toMatch(/bad virtioBlk "1x2"; allowed: .*queue-size a power of two from 4 to 1024/);
    expect((await refusal(() => replay(42 as never, { policies: ["legacy"] }))).message).toMatch(/^replay\(\): bad trace 42; allowed: a bundled trace's name/);
  });

  it("startRuntime() refuses a backend, a missing policy and a bad stack size; runtime.run refuses its own", async () => {
    expect((await refusal(() => startRuntime({ threads: 1, policy: "batched", backend: "nope" as never }))).message).toBe('bad backend "nope"; allowed: simulated, kernel');
    expect((await refusal(() => startRuntime({ threads: 1 } as never))).message).toMatch(/^startRuntime\(\): missing policy; allowed: legacy, batched/);
    expect((await refusal(() => startRuntime({ threads: 1, policy: "batched", stackSize: 3000 }))).message).toMatch(/^bad stackSize 3000; allowed: a multiple of 4096 bytes/);
    const runtime = await startRuntime({ threads: 1, policy: "batched" });
    try {
      const workload = join(ROOT, "examples", "workloads", "ping.mjs");
      expect((await refusal(() => runtime.run(workload, { options: { f: () => 1 } } as never))).message).toMatch(/^bad options \{\}; allowed: a plain object of values a worker thread can receive/);
      expect((await refusal(() => runtime.run(workload, { seeds: 1 } as never))).message).toMatch(/^runtime\.run\(\): unknown option seeds; did you mean seed\?/);
      expect((await refusal(() => runtime.run(7 as never))).message).toMatch(/^runtime\.run\(\): bad workload 7; allowed: a workload module's path or file: URL/);
    } finally {
      await runtime.close();
    }
  });

  it("the old name poolSizeIncrease still works, warned once as deprecated; with the new name it is refused", async () => {
    const warnings: Error[] = [];
    const listen = (w: Error) => warnings.push(w);
    process.on("warning", listen);
    try {
      // 300 coroutines in flight, then all ended: legacy pools 192 of them at pool_max_size 64, all 300 at 64 + 64.
      const pooledWith = async (options: Record<string, unknown>) => {
        const runtime = await startRuntime({ threads: 1, policy: "legacy", ...options });
        try {
          await runtime.run(join(ROOT, "examples", "workloads", "ping.mjs"), { options: { coroutines: 300, hops: 1 } });
          return runtime.stats().stacks.pooled;
        } finally {
          await runtime.close();
        }
      };
      const old = await pooledWith({ poolSizeIncrease: 64 });
      expect(old).toBe(await pooledWith({ poolIncrease: 64 }));
      expect(old).not.toBe(await pooledWith({}));
      await new Promise((r) => setImmediate(r));
      expect(warnings.map((w) => `${w.name}: ${w.message}`)).toContainEqual(
        "DeprecationWarning: startRuntime(): the option poolSizeIncrease is deprecated; use poolIncrease (poolSizeIncrease goes in coropool 0.3.0)",
      );
    } finally {
      process.off("warning", listen);
    }
    expect((await refusal(() => startRuntime({ threads: 1, policy: "legacy", poolSizeIncrease: 1, poolIncrease: 1 })))).toMatchObject({
      message: "poolSizeIncrease and poolIncrease together: poolSizeIncrease is the old name of poolIncrease; give poolIncrease only",
    });
  });

  it("renderReport() of anything but a result document is one InputError line", async () => {
    for (const value of [{}, null, "x", 5]) {
      const err = await refusal(() => renderReport(value as never));
      expect(err).toBeInstanceOf(InputError);
      expect(err.message).not.toContain("\n");
    }
  });
});

describe("a replay depends only on its input and options", () => {
  it("the default baseline is the documented QEMU_BASELINE_VMAS, not this process's maps: two runs give the same JSON", async () => {
    const { QEMU_BASELINE_VMAS } = await import("../src/vma/limits.js");
    const first = runCli(["replay", "imbalance", "--policy", "legacy,batched", "--max-map-count", "65530", "--json"]);
    const second = runCli(["replay", "imbalance", "--policy", "legacy,batched", "--max-map-count", "65530", "--json"]);
    expect(first.stdout).toBe(second.stdout);
    const results = JSON.parse(first.stdout) as { vmas: { baseline: number } }[];
    expect(results.map((r) => r.vmas.baseline)).toEqual([QEMU_BASELINE_VMAS, QEMU_BASELINE_VMAS]);
    const api = await replay("imbalance", { policies: ["legacy"], maxMapCount: 65530 });
    expect(api[0]!.vmas.baseline).toBe(QEMU_BASELINE_VMAS);
    const answer = await whatIf("imbalance", { maxMapCount: 65530 });
    expect(answer.baselineVmas).toBe(QEMU_BASELINE_VMAS);
  });
});

describe("the property: every door, every kind of option", () => {
  it("gives a result or a CoropoolError, and leaves nothing behind (the child exits by itself)", () => {
    const child = spawnSync(process.execPath, [join(ROOT, "test", "fixtures", "contract", "every-door.mjs"), "60", "17"], {
      encoding: "utf8",
      timeout: 120_000,
    });
    expect(child.error, "the child did not exit by itself within 120 s: something was left running").toBeUndefined();
    expect(child.stderr).toBe("");
    expect(child.status).toBe(0);
    const counts = JSON.parse(child.stdout.trim().split("\n").pop()!) as { results: number; refusals: number };
    expect(counts.results + counts.refusals).toBe(60);
    expect(counts.results).toBeGreaterThan(0);
    expect(counts.refusals).toBeGreaterThan(0);
  }, 150_000);
});
