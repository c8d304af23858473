import { run, startRuntime } from "../src/index.js";
import { describe, expect, it } from "vitest";
import { InputError } from "../src/errors.js";
import { initialPoolMaxSize, policyId } from "../src/pools/index.js";
import { Runtime, KERNEL_SAFETY_MARGIN_VMAS } from "../src/runtime/runtime.js";
import { SharedRegion } from "../src/shared/region.js";
import { KernelStackBackend, kernelBackendUnavailableReason } from "../src/stacks/kernel-backend.js";
import { StackAllocator } from "../src/stacks/stack-allocator.js";
import { planStress } from "../src/scenarios/stress/plan.js";
import { loadScenarioFile } from "../src/scenarios/validate.js";
import type { StressScenario } from "../src/scenarios/types.js";
import { countVmasWithin, readMaps } from "../src/vma/proc-maps.js";
import { readMaxMapCount, readProcessVmaCount } from "../src/vma/limits.js";
import { runCli, ROOT } from "./helpers/cli.js";
import { join } from "node:path";

const unavailable = kernelBackendUnavailableReason();
// Stated, not silent: where koffi or Linux is missing these tests are skipped for that reason.
const describeKernel = unavailable === null ? describe : describe.skip;
if (unavailable !== null) console.warn(`kernel backend tests skipped: ${unavailable}`);

function region(capacity: number): SharedRegion {
  return SharedRegion.create({
    policyId: policyId("none"),
    threads: 1,
    stackCapacity: capacity,
    vmaLimit: 60_000,
    baselineVmas: readProcessVmaCount() ?? 0,
    initialPoolMaxSize: initialPoolMaxSize("none"),
    hardMaxSize: 0,
  });
}

describeKernel("kernel backend (real mmap + mprotect + munmap)", () => {
  it("maps each stack as exactly two VMAs, a PROT_NONE guard page below the stack, and unmaps them", () => {
    const n = 64;
    const backend = KernelStackBackend.create(n, 64 * 1024);
    const stacks = new StackAllocator(region(n), backend);
    const slots = Array.from({ length: n }, () => stacks.mapNew(0));
    const maps = readMaps();
    // Only the VMAs inside our mappings are compared: V8 maps memory of its own meanwhile.
    expect(countVmasWithin(maps, backend.mappedRanges())).toBe(2 * n);
    for (const slot of slots) {
      const start = backend.addressOf(slot);
      const guard = maps.find((e) => e.start === start)!;
      expect(guard.end - guard.start).toBe(backend.pageBytes);
      expect(guard.perms).toBe("---p");
      const stack = maps.find((e) => e.start === start + backend.pageBytes)!;
      expect(stack.perms).toBe("rw-p");
    }
    const ranges = backend.mappedRanges();
    for (const slot of slots) stacks.free(slot, 0);
    expect(countVmasWithin(readMaps(), ranges)).toBe(0);
    expect(backend.mappedRanges()).toEqual([]);
    expect(stacks.vmas.current).toBe(stacks.vmas.baseline);
  });

  it("raises the process's real VMA count by about 2N (V8's own mappings move it a little)", () => {
    const n = 500;
    const backend = KernelStackBackend.create(n, 64 * 1024);
    const stacks = new StackAllocator(region(n), backend);
    const before = readProcessVmaCount()!;
    const slots = Array.from({ length: n }, () => stacks.mapNew(0));
    const during = readProcessVmaCount()!;
    for (const slot of slots) stacks.free(slot, 0);
    const after = readProcessVmaCount()!;
    // V8 maps and unmaps on its own (heap pages, JIT code) meanwhile; up to 10 was seen under load.
    expect(Math.abs(during - before - 2 * n)).toBeLessThanOrEqual(16);
    expect(Math.abs(after - before)).toBeLessThanOrEqual(16);
  });

  it("the options contract refuses to come within the safety margin of the host's real limit, at every door", async () => {
    const host = readMaxMapCount().value;
    const ceiling = host - KERNEL_SAFETY_MARGIN_VMAS;
    await expect(startRuntime({ threads: 1, policy: "batched", backend: "kernel", maxMapCount: host })).rejects.toThrow(InputError);
    await expect(startRuntime({ threads: 1, policy: "batched", backend: "kernel", maxMapCount: ceiling + 1 })).rejects.toThrow(
      `bad maxMapCount ${ceiling + 1}; allowed: at most ${ceiling} with the kernel backend (4096 VMAs below this host's real limit ${host}`,
    );
    await expect(run("stress-small", { backend: "kernel", maxMapCount: ceiling + 1 })).rejects.toThrow(`bad maxMapCount ${ceiling + 1}; allowed: at most ${ceiling}`);
    const runtime = await startRuntime({ threads: 1, policy: "batched", backend: "kernel", maxMapCount: ceiling });
    expect((await runtime.close()).vmas.backToBaseline).toBe(true);
  });

  it("runs a scenario on real stacks with the counter matching /proc/self/maps at every phase boundary", async () => {
    const scenario = loadScenarioFile(join(ROOT, "scenarios", "stress-small.json")) as StressScenario;
    const runtime = new Runtime({ threads: 4, policy: "batched", backend: "kernel", stackSize: 64 * 1024, maxMapCount: 60_000 });
    try {
      const result = await runtime.run(planStress({ ...scenario, rounds: 3, maxMapCount: 60_000 }));
      expect(result.completed).toBe(true);
      expect(result.crossChecks.map((c) => c.point)).toEqual(["at start", "after round 1", "after round 2", "after round 3", "after shutdown"]);
      expect(result.crossCheckMismatches).toEqual([]);
      expect(result.crossChecks.at(-1)).toEqual({ point: "after shutdown", counted: 0, expected: 0 });
      expect(result.crossChecks[1]!.counted).toBeGreaterThan(0);
      expect(result.vmas.backToBaseline).toBe(true);
      expect(result.invariantViolations).toEqual([]);
    } finally {
      await runtime.close();
    }
  });

  it(
    "reproduces the real abort in a child process: legacy dies with QEMU's message, batched survives",
    () => {
      const r = runCli(["stress", "--backend", "kernel", "--json"], { timeoutMs: 150_000 });
      expect(r.code).toBe(3);
      const report = JSON.parse(r.stdout);
      const [legacy, batched] = report.children;
      expect(legacy.policy).toBe("legacy");
      const seen = JSON.stringify(report.children);
      const limit = report.hostMaxMapCount;
      // Either a stack mapping failed first (QEMU's own abort) or V8 did; both are reported.
      if (legacy.outcome.kind === "qemu-abort") {
        expect(["failed to allocate memory for stack", "failed to set up stack guard page"], seen).toContain(legacy.outcome.message);
        expect(legacy.outcome.detail, seen).toMatch(/ENOMEM/);
        expect(legacy.outcome.signal, seen).toBe("SIGABRT");
        // Read as it died, while the other threads ran on: within 1% of the real limit.
        expect(legacy.realVmasAtDeath, seen).toBeGreaterThanOrEqual(limit * 0.99);
      } else {
        // V8 needed a mapping of its own first: the child died by a signal or an exit code,
        // with the process near the limit (read as it died, or the counter's last sample).
        expect(legacy.outcome.kind, seen).toBe("died");
        expect(legacy.outcome.signal ?? legacy.outcome.exitCode, seen).not.toBeNull();
        expect(Math.max(legacy.realVmasAtDeath ?? 0, legacy.lastVmas ?? 0), seen).toBeGreaterThanOrEqual(limit * 0.9);
      }
      expect(batched.policy).toBe("batched");
      expect(batched.outcome.kind, seen).toBe("completed");
      expect(batched.outcome.result.vmas.backToBaseline).toBe(true);
      expect(batched.outcome.result.crossCheckMismatches).toEqual([]);
      expect(batched.outcome.result.vmas.peak).toBeLessThan(report.hostMaxMapCount);
    },
    160_000,
  );
});

describe("kernel backend availability", () => {
  it("says why it is unavailable, or is available on Linux with koffi", () => {
    if (process.platform !== "linux") expect(unavailable).toMatch(/needs Linux/);
    else expect(unavailable === null || /koffi/.test(unavailable)).toBe(true);
  });

  it("a bad --backend is exit 2 naming the allowed values", () => {
    const r = runCli(["imbalance", "--backend", "gpu"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe("coropool: bad --backend gpu; allowed: simulated, kernel");
  });
});
