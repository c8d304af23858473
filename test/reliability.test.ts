import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { afterEach, describe, expect, it } from "vitest";
import { Runtime } from "../src/runtime/runtime.js";
import { planStress } from "../src/scenarios/stress/plan.js";
import type { CustomPart } from "../src/scenarios/custom/part.js";
import type { StressScenario } from "../src/scenarios/types.js";
import { loadScenarioFile } from "../src/scenarios/validate.js";
import { Barrier } from "../src/sync/barrier.js";
import { FutexMutex } from "../src/sync/futex-mutex.js";
import { ROOT } from "./helpers/cli.js";

const small = loadScenarioFile(join(ROOT, "scenarios", "stress-small.json")) as StressScenario;
const roomy: StressScenario = { ...small, maxMapCount: 100_000, rounds: 4 };

const runtimes: Runtime[] = [];
function runtime(options: ConstructorParameters<typeof Runtime>[0]): Runtime {
  const r = new Runtime({ maxMapCount: 100_000, baselineVmas: 100, barrierTimeoutMs: 10_000, ...options });
  runtimes.push(r);
  return r;
}
afterEach(async () => {
  await Promise.all(runtimes.splice(0).map((r) => r.close()));
});

describe("a worker that dies", () => {
  it("inside the global lock's critical section: another thread takes the lock over, the run goes on, nothing is lost", async () => {
    const result = await runtime({
      threads: 4,
      policy: "batched",
      testHooks: { dieInCriticalSection: { thread: 1, acquisition: 30 } },
    }).run(planStress(roomy));
    expect(result.completed).toBe(false);
    expect(result.deadThreads).toHaveLength(1);
    expect(result.deadThreads[0]).toMatchObject({ thread: 1, reason: "worker exited with code: 1" });
    // It died holding the lock: exactly one takeover (by a worker, or by the main thread at shutdown).
    expect(result.lock.recoveries).toBe(1);
    // The three others ran every round.
    const parts = result.parts as ({ roundsRun: number } | null)[];
    expect(parts[1]).toBeNull();
    for (const t of [0, 2, 3]) expect(parts[t]!.roundsRun).toBe(roomy.rounds);
    expect(result.invariantViolations).toEqual([]);
    expect(result.stacks.created - result.stacks.freed).toBe(0);
    expect(result.vmas.final).toBe(result.vmas.baseline);
  });

  it("with coroutines live: their stacks are found through the stack table, counted and freed", async () => {
    const afterCreates = 37;
    for (const policy of ["legacy", "batched", "none"] as const) {
      const result = await runtime({ threads: 4, policy, testHooks: { throwWithLiveCoroutines: { thread: 2, afterCreates } } }).run(planStress(roomy));
      expect(result.deadThreads).toEqual([
        { thread: 2, reason: `test hook: thread 2 fails with ${afterCreates} coroutines live`, reclaimedFromPool: 0, reclaimedLive: afterCreates },
      ]);
      expect(result.invariantViolations).toEqual([]);
      expect(result.vmas.final - result.vmas.baseline).toBe(2 * result.stacks.leaked);
    }
  });

  it("stuck in a coroutine that never yields back: the run's time limit stops it and says which thread", async () => {
    const part: CustomPart = { kind: "custom", modulePath: join(ROOT, "test", "fixtures", "reliability", "never-yields.mjs"), options: {}, seed: 1 };
    const result = await runtime({ threads: 2, policy: "batched", timeoutMs: 1500 }).run({ parts: [part, part], poolSizeIncrease: 0 });
    expect(result.timedOut).toBe(true);
    expect(result.deadThreads).toHaveLength(1);
    expect(result.deadThreads[0]!.thread).toBe(1);
    expect(result.deadThreads[0]!.reason).toBe("did not finish within 1500 ms; its worker was terminated");
    // Its three coroutines were live (one spinning, two never reached); all reclaimed.
    expect(result.deadThreads[0]!.reclaimedLive).toBe(3);
    expect(result.invariantViolations).toEqual([]);
    expect(result.vmas.final).toBe(result.vmas.baseline);
  });
});

describe("sync primitives recover from a dead party", () => {
  it("a barrier releases the waiting parties when a dead one is removed", async () => {
    const i32 = new Int32Array(new SharedArrayBuffer(16));
    Barrier.initialize(i32, 0, 3);
    const barrier = new Barrier(i32, 0, 3);
    const first = barrier.arriveAsync(2000);
    const second = barrier.arriveAsync(2000);
    barrier.removeParty();
    await expect(Promise.all([first, second])).resolves.toHaveLength(2);
    expect(barrier.parties).toBe(2);
  });

  it("a robust lock taken over from a holder that exited, exactly once", async () => {
    const buffer = new SharedArrayBuffer(64 + 64);
    const i32 = new Int32Array(buffer, 64);
    const i64 = new BigInt64Array(buffer, 0, 8);
    FutexMutex.initialize(i32, 0, i64, 0);
    const mutex = new FutexMutex(i32, 0, i64, 0);
    // A worker takes the lock and exits without unlocking.
    const code = `const { workerData } = require("node:worker_threads");
      const i32 = new Int32Array(workerData, 64); Atomics.store(i32, 0, 1); Atomics.store(i32, 1, 7 + 1); process.exit(0);`;
    await new Promise((resolve) => new Worker(code, { eval: true, workerData: buffer }).once("exit", resolve));
    expect(mutex.owner()).toBe(7);
    const dead = new Set([7]);
    // The main thread never waits: with the holder known dead it takes over at once.
    expect(mutex.lockRobust(3, (owner) => dead.has(owner))).toBe(true);
    expect(mutex.owner()).toBe(3);
    mutex.unlock();
    expect(mutex.lockRobust(3, (owner) => dead.has(owner))).toBe(false);
    mutex.unlock();
    expect(mutex.stats().recoveries).toBe(1);
  });
});
