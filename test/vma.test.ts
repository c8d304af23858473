import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { VmaExhaustedError } from "../src/errors.js";
import { Header } from "../src/shared/layout.js";
import { policyId, policyOf } from "../src/pools/index.js";
import { SharedRegion } from "../src/shared/region.js";
import { StackAllocator } from "../src/stacks/stack-allocator.js";
import { countFreeSlots } from "../src/stacks/free-slots.js";
import { batchedHardMaxSize, readMaxMapCount, readProcessVmaCount, LINUX_DEFAULT_MAX_MAP_COUNT } from "../src/vma/limits.js";

function region(vmaLimit: number, baselineVmas: number, stackCapacity = 16): SharedRegion {
  return SharedRegion.create({ policyId: policyId("none"), threads: 1, stackCapacity, vmaLimit, baselineVmas, initialPoolMaxSize: 0, hardMaxSize: 0 });
}

describe("VMA counter", () => {
  it("charges 1 for the mapping and 1 for the guard page, and gives both back on free", () => {
    const stacks = new StackAllocator(region(100, 10));
    const a = stacks.mapNew(0);
    const b = stacks.mapNew(0);
    expect(stacks.vmas.current).toBe(14);
    stacks.free(a, 0);
    expect(stacks.vmas.current).toBe(12);
    expect(stacks.vmas.peak).toBe(14);
    stacks.free(b, 0);
    expect(stacks.vmas.current).toBe(10);
  });

  it("refuses the mapping with QEMU's message when no VMA is left, changing nothing", () => {
    const stacks = new StackAllocator(region(12, 10));
    stacks.mapNew(0);
    expect(() => stacks.mapNew(0)).toThrow(new VmaExhaustedError("failed to allocate memory for stack"));
    expect(stacks.vmas.current).toBe(12);
  });

  it("refuses the guard page with QEMU's message when one VMA is left, keeping the mapping's VMA", () => {
    const r = region(13, 10);
    const stacks = new StackAllocator(r);
    stacks.mapNew(0);
    let error: unknown;
    try {
      stacks.mapNew(0);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(VmaExhaustedError);
    expect((error as VmaExhaustedError).message).toBe("failed to set up stack guard page");
    expect((error as VmaExhaustedError).code).toBe("ERR_GUARD_PAGE");
    expect(stacks.vmas.current).toBe(13);
    expect(stacks.vmas.peak).toBe(13);
    expect(r.totals().created).toBe(1);
    // The failed mapping keeps its slot on the stranded list until shutdown unmaps it.
    expect(countFreeSlots(r)).toBe(14);
    expect(r.readU32(Header.STRANDED_MAPPINGS)).toBe(1);
    expect(stacks.releaseStrandedMappings()).toBe(1);
    expect(stacks.vmas.current).toBe(12);
    expect(countFreeSlots(r)).toBe(15);
  });

  it("reports a full stack table as an internal error, not as VMA exhaustion", () => {
    const stacks = new StackAllocator(region(1000, 0, 2));
    stacks.mapNew(0);
    stacks.mapNew(0);
    expect(() => stacks.mapNew(0)).toThrow(/stack table is full \(2 slots\)/);
    expect(stacks.vmas.current).toBe(4);
  });
});

describe("limits", () => {
  const dir = mkdtempSync(join(tmpdir(), "coropool-limits-"));
  const file = (text: string) => {
    const p = join(dir, "max_map_count" + Math.random());
    writeFileSync(p, text);
    return p;
  };

  it("reads max_map_count with its trailing newline (QEMU's strict parser would not)", () => {
    expect(readMaxMapCount(file("65530\n")).value).toBe(65530);
    expect(readMaxMapCount(file("262144\n")).value).toBe(262144);
  });

  it("falls back to Linux's 65530 where the file is missing or odd, never to unlimited", () => {
    expect(readMaxMapCount(join(dir, "nope")).value).toBe(LINUX_DEFAULT_MAX_MAP_COUNT);
    expect(readMaxMapCount(file("lots\n")).value).toBe(65530);
    expect(readMaxMapCount(file("-1\n")).value).toBe(65530);
  });

  it("derives the batched hard cap as (max_map_count - 5000) / 2, or 0 at or below 5000", () => {
    expect(batchedHardMaxSize(65530)).toBe(30265);
    expect(batchedHardMaxSize(5001)).toBe(0);
    expect(batchedHardMaxSize(5002)).toBe(1);
    expect(batchedHardMaxSize(5000)).toBe(0);
    expect(batchedHardMaxSize(100)).toBe(0);
  });

  it("counts this process's real VMAs from /proc/self/maps on Linux", () => {
    const n = readProcessVmaCount();
    if (process.platform !== "linux") return expect(n).toBeNull();
    expect(n).toBeGreaterThan(10);
  });
});

describe("shared region", () => {
  it("is attachable from the buffer alone and sees the same words", () => {
    const r = region(100, 10);
    const stacks = new StackAllocator(r);
    stacks.mapNew(0);
    const view = SharedRegion.attach(r.buffer);
    expect(policyOf(view)).toBe("none");
    expect(view.stackCapacity).toBe(16);
    expect(view.totals().created).toBe(1);
    expect(new StackAllocator(view).vmas.current).toBe(12);
  });

  it("refuses a buffer that is not a region", () => {
    expect(() => SharedRegion.attach(new SharedArrayBuffer(1024))).toThrow(/not a coropool shared region/);
  });
});
