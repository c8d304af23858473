import { describe, expect, it } from "vitest";
import { TraceBuilder } from "./helpers/trace-builder.js";

// Hand-worked sequences: every expected number below is derived in the
// comment above it from QEMU's algorithm as docs/design.md states it:
// docs/design.md#legacy-qemu-up-to-82 and docs/design.md#batched-qemu-90-and-later.

describe("legacy (QEMU up to 8.2)", () => {
  it("fills the release pool to 2 x pool_max_size, then the alloc pool to pool_max_size, then frees", () => {
    // pool_max_size 64: 128 terminations go to the release pool, 64 to T0's
    // alloc pool, the last 8 are freed.
    const { result } = new TraceBuilder(1).burst(0, 200).replay({ policy: "legacy" });
    expect(result).toMatchObject({ stacksCreated: 200, stacksFreed: 8, live: 0, pooled: { global: 128, threads: [64] } });
    expect(result.vmas).toEqual({ baseline: 1000, limit: 65530, final: 1000 + 2 * 192, peak: 1000 + 2 * 200 });
  });

  it("takes the release pool whole only when it holds more than 64", () => {
    const b = new TraceBuilder(2);
    b.burst(0, 64); // release pool: 64
    b.create(1, 1); // 64 is not > 64: a new stack
    expect(b.replay({ policy: "legacy" }).result).toMatchObject({ stacksCreated: 65, pooled: { global: 64, threads: [0, 0] } });
    b.burst(0, 1); // T0's alloc pool is empty and 64 is not > 64: new stack; release pool: 65
    b.create(1, 1); // 65 > 64: T1 takes all 65 and pops one
    const { result } = b.replay({ policy: "legacy" });
    expect(result).toMatchObject({ stacksCreated: 66, live: 2, pooled: { global: 0, threads: [0, 64] } });
  });

  it("leaks the alloc pool of a thread that never took the slow path (the exit cleanup was never registered)", () => {
    const b = new TraceBuilder(2);
    b.burst(0, 200).exit(0); // T0's 64 pooled stacks are left mapped and unreachable
    let outcome = b.replay({ policy: "legacy" });
    expect(outcome.result).toMatchObject({ stacksCreated: 200, stacksFreed: 8, pooled: { global: 128, threads: [0, 0] } });
    expect(outcome.leakedStacks).toBe(64);
    expect(outcome.result.vmas.final).toBe(1000 + 2 * 192);

    b.create(1, 1); // T1 takes the release pool: the slow path registers its cleanup
    b.exit(1); // ...so its 127 pooled stacks are freed
    outcome = b.replay({ policy: "legacy" });
    expect(outcome.result).toMatchObject({ stacksCreated: 200, stacksFreed: 8 + 127, live: 1, pooled: { global: 0, threads: [0, 0] } });
    expect(outcome.leakedStacks).toBe(64);
  });

  it("follows inc and dec of pool_max_size", () => {
    // inc 100: pool_max_size 164, so the release pool takes 328 and the alloc pool 72 of 400.
    const b = new TraceBuilder(1).inc(100).burst(0, 400);
    expect(b.replay({ policy: "legacy" }).result).toMatchObject({ stacksFreed: 0, pooled: { global: 328, threads: [72] } });
    // dec 100: back to 64. Ten creates pop the alloc pool (62 left); of ten
    // terminations two refill it to 64 and eight are freed.
    b.dec(100).burst(0, 10);
    expect(b.replay({ policy: "legacy" }).result).toMatchObject({ stacksCreated: 400, stacksFreed: 8, pooled: { global: 328, threads: [64] } });
  });

  it("doubles pool_max_size in unsigned 32-bit arithmetic, as QEMU does", () => {
    // dec 2^31: pool_max_size = 64 - 2^31 mod 2^32 = 2^31 + 64, and twice that
    // wraps to 128. So the release pool still stops at 128 while the alloc
    // pool's limit is about two billion: none of 300 stacks is freed.
    const { result } = new TraceBuilder(1).dec(2 ** 31).burst(0, 300).replay({ policy: "legacy" });
    expect(result).toMatchObject({ stacksFreed: 0, pooled: { global: 128, threads: [172] } });
  });

  it("with pool_max_size wrapped below zero, pools everything in the release pool", () => {
    // dec 65: 0xFFFFFFFF, doubled 0xFFFFFFFE.
    const { result } = new TraceBuilder(1).dec(65).burst(0, 1000).replay({ policy: "legacy" });
    expect(result).toMatchObject({ stacksFreed: 0, pooled: { global: 1000, threads: [0] } });
  });
});

describe("batched (QEMU 9.0+)", () => {
  it("hands a full batch over only when a second local batch exists", () => {
    // Puts 1-128 fill the first batch; put 129 finds it full with no second
    // batch, so it moves to second place; put 257 finds both full and hands
    // the first to the global pool (0 < 128). 300 = 44 + 128 local + 128 global.
    const { result } = new TraceBuilder(1).burst(0, 300).replay({ policy: "batched" });
    expect(result).toMatchObject({ stacksCreated: 300, stacksFreed: 0, pooled: { global: 128, threads: [172] } });
    const at256 = new TraceBuilder(1).burst(0, 256).replay({ policy: "batched" }).result;
    expect(at256.pooled).toEqual({ global: 0, threads: [256] });
  });

  it("frees a handed-over batch when the global pool is at global_pool_max_size", () => {
    // Hand-overs at puts 257, 385, 513: the first joins (0 < 128), the next
    // two are freed (128 < 128 is false). Local: 88 + 128.
    const { result } = new TraceBuilder(1).burst(0, 600).replay({ policy: "batched" });
    expect(result).toMatchObject({ stacksCreated: 600, stacksFreed: 256, pooled: { global: 128, threads: [216] } });
  });

  it("lets the global pool overshoot its max by up to one batch", () => {
    // inc 1: max 129. 0 < 129 and 128 < 129 both join (256 > 129); 256 < 129 does not.
    const { result } = new TraceBuilder(1).inc(1).burst(0, 600).replay({ policy: "batched" });
    expect(result).toMatchObject({ stacksFreed: 128, pooled: { global: 256, threads: [216] } });
  });

  it("caps the global pool at (max_map_count - 5000) / 2", () => {
    const b = new TraceBuilder(1).inc(1000).burst(0, 600);
    // max_map_count 5000: the cap is 0, every hand-over is freed.
    expect(b.replay({ policy: "batched", maxMapCount: 5000 }).result).toMatchObject({ stacksFreed: 384, pooled: { global: 0, threads: [216] } });
    // 5256: the cap is 128, below the raised max of 1128.
    expect(b.replay({ policy: "batched", maxMapCount: 5256 }).result).toMatchObject({ stacksFreed: 256, pooled: { global: 128, threads: [216] } });
    // 5257: (257) / 2 = 128 too (integer division).
    expect(b.replay({ policy: "batched", maxMapCount: 5257 }).result.pooled.global).toBe(128);
    // QEMU in practice (its parser rejects /proc's newline): no cap.
    expect(b.replay({ policy: "batched", maxMapCount: 5000, uncapped: true }).result).toMatchObject({ stacksFreed: 0, pooled: { global: 384 } });
  });

  it("wraps global_pool_max_size below zero, leaving only the hard cap", () => {
    // dec 129: 0xFFFFFFFF, so min(max, cap) = cap = 30265 and all three hand-overs join.
    const { result } = new TraceBuilder(1).dec(129).burst(0, 600).replay({ policy: "batched" });
    expect(result).toMatchObject({ stacksFreed: 0, pooled: { global: 384, threads: [216] } });
  });

  it("refills an empty local pool with one global batch, then maps new stacks", () => {
    const b = new TraceBuilder(2).burst(0, 600); // global 128, T0 local 216, 256 freed
    b.create(1, 200); // T1: the global batch gives 128, then 72 new stacks
    let outcome = b.replay({ policy: "batched" });
    expect(outcome.result).toMatchObject({ stacksCreated: 672, stacksFreed: 256, live: 200, pooled: { global: 0, threads: [216, 0] } });
    b.exit(0); // T0's local pool is freed at exit
    outcome = b.replay({ policy: "batched" });
    expect(outcome.result).toMatchObject({ stacksFreed: 472, live: 200, pooled: { global: 0, threads: [0, 0] } });
  });

  it("a thread that exits and comes back starts with an empty local pool", () => {
    const b = new TraceBuilder(1).burst(0, 10).exit(0);
    b.create(0, 1);
    expect(b.replay({ policy: "batched" }).result).toMatchObject({ stacksCreated: 11, stacksFreed: 10, live: 1 });
  });
});

describe("none", () => {
  it("maps a stack per create and frees it on terminate", () => {
    const b = new TraceBuilder(1);
    const names = b.create(0, 10);
    b.terminate(0, names.slice(0, 5));
    const { result } = b.replay({ policy: "none" });
    expect(result).toMatchObject({ stacksCreated: 10, stacksFreed: 5, live: 5, pooled: { global: 0, threads: [0] } });
    expect(result.vmas).toMatchObject({ final: 1010, peak: 1020 });
  });
});

describe("VMA exhaustion ends the replay as QEMU's abort does", () => {
  it("fails the guard page when only one VMA is left", () => {
    // 1000 + 2 + 2 = 1004; the third stack's mmap reaches 1005 = limit, its guard page would be 1006.
    const b = new TraceBuilder(1);
    b.create(0, 5);
    const { result } = b.replay({ policy: "none", maxMapCount: 1005 });
    expect(result).toMatchObject({ events: 3, stacksCreated: 2, live: 2, failure: { line: 4, error: "failed to set up stack guard page" } });
    expect(result.vmas).toMatchObject({ final: 1005, peak: 1005 });
  });

  it("fails the mapping when no VMA is left, changing nothing", () => {
    const b = new TraceBuilder(1);
    b.create(0, 5);
    const { result } = b.replay({ policy: "legacy", maxMapCount: 1004 });
    expect(result).toMatchObject({ events: 3, stacksCreated: 2, live: 2, failure: { line: 4, error: "failed to allocate memory for stack" } });
    expect(result.vmas).toMatchObject({ final: 1004, peak: 1004 });
  });
});
