import { describe, expect, it } from "vitest";
import { InputError } from "../src/errors.js";
import { replayLog } from "../src/replay/replay-log.js";

// A patched QEMU (qemu/patches/) traces its pool's own operations beside the
// enters and terminates. The importer hands them to the replay, which counts
// QEMU's lock acquisitions from them, compares QEMU's global pool with its
// own after each, and, on QEMU's decay clock, ends elastic's periods where
// QEMU's timer did. Every expected number is worked out in the comments.

const enter = (tid: number, ms: number, co: number) => `${tid}@7.${String(ms * 1000).padStart(6, "0")}:qemu_aio_coroutine_enter ctx 0xa0 from 0xf0 to 0x${co.toString(16)} opaque 0x0`;
const term = (tid: number, ms: number, co: number) => `${tid}@7.${String(ms * 1000).padStart(6, "0")}:qemu_coroutine_terminate self 0x${co.toString(16)}`;
const pool = (tid: number, ms: number, text: string) => `${tid}@7.${String(ms * 1000).padStart(6, "0")}:qemu_coroutine_pool_${text}`;

/**
 * Thread 11 creates 1000 coroutines and terminates them, with the pool
 * raised by 1024 (max 1152): hand-overs after the 257th, 385th, ..., 897th
 * terminate (six batches of 128, 768 global), each traced after its
 * terminate as QEMU does. Then QEMU's timer: a period end that only records
 * the low-water mark (0 -> 768), one that frees 640 of the 768 idle, and
 * thread 12's first create, which refills the last global batch (traced
 * before the enter that the replay reads as the create).
 */
function patchedLog(decayFreed = 640): string[] {
  const lines: string[] = [];
  for (let co = 1; co <= 1000; co++) lines.push(enter(11, 1, 0x1000 + co));
  let global = 0;
  for (let co = 1; co <= 1000; co++) {
    lines.push(term(11, 2, 0x1000 + co));
    if (co >= 257 && (co - 257) % 128 === 0) {
      global += 128;
      lines.push(pool(11, 2, `hand_over size 128 accepted 1 locked 1 global ${global}`));
    }
  }
  lines.push(pool(1, 252, "decay idle 0 freed 0 due 0 locked 0 global 768"));
  lines.push(pool(1, 502, `decay idle 768 freed ${decayFreed} due 0 locked 1 global ${768 - decayFreed}`));
  lines.push(pool(12, 600, `refill size 128 global ${640 - decayFreed}`));
  lines.push(enter(12, 600, 0x9000));
  return lines;
}

const options = { policies: [{ policy: "elastic" as const }], maxMapCount: 65530, baselineVmas: 1000, poolIncrease: 1024 };

describe("QEMU log: a patched QEMU's pool operations", () => {
  it("are counted, their locks counted, and QEMU's global pool compared with the replay's at each", async () => {
    const { outcomes } = await replayLog({ lines: patchedLog() }, { ...options, decayClock: "qemu" });
    const { result, qemuSteps } = outcomes[0]!;
    // 6 hand-overs, 2 decays, 1 refill; locks: 6 + 1 (the second decay) + 1 (the refill).
    // Compared: after each hand-over and decay, and after thread 12's create: 9, all equal.
    expect(qemuSteps).toEqual({ operations: 9, lockAcquisitions: 8, checked: 9, exact: 9, maxDiff: 0, firstDiffLine: 0, qemuDecayFreed: 640, replayDecayFreed: 640 });
    // 1000 created; 640 freed by the decay; 232 pooled on thread 11, none on
    // the main loop's thread 1 (it only logs the decays), 127 on 12; 1 live.
    expect(result).toMatchObject({ stacksCreated: 1000, stacksFreed: 640, live: 1, pooled: { global: 0, threads: [232, 0, 127] } });
  });

  it("on QEMU's clock a period ends at each decay event and nowhere else", async () => {
    // On the events' clock the replay ticks at enters and terminates only:
    // none falls between 2 ms and 600 ms, so it frees nothing where QEMU
    // freed 640, and differs from QEMU from the second decay on.
    const own = await replayLog({ lines: patchedLog() }, options);
    expect(own.outcomes[0]!.qemuSteps).toMatchObject({ qemuDecayFreed: 640, replayDecayFreed: 0 });
    expect(own.outcomes[0]!.qemuSteps!.exact).toBeLessThan(own.outcomes[0]!.qemuSteps!.checked);
  });

  it("a QEMU that freed otherwise shows as a difference, with its line", async () => {
    // QEMU says it freed 512 (256 left); the replay frees 640 (128 left): -128
    // at the second decay (line 2008: 1000 enters, 1000 terminates, 6 hand-overs, a decay before it),
    // and again after the refill (QEMU 128, the replay 0).
    const { outcomes } = await replayLog({ lines: patchedLog(512) }, { ...options, decayClock: "qemu" });
    expect(outcomes[0]!.qemuSteps).toMatchObject({ checked: 9, exact: 7, maxDiff: -128, firstDiffLine: 2008, qemuDecayFreed: 512, replayDecayFreed: 640 });
  });

  it("a log without them has no steps; a known one without its fields is refused with its line", async () => {
    const { outcomes, input } = await replayLog({ lines: [enter(11, 1, 0x10), term(11, 2, 0x10), pool(11, 3, "something_else a 1")] }, options);
    expect(outcomes[0]!.qemuSteps).toBeNull();
    expect(input.qemu!.otherEvents).toBe(1);
    const bad = replayLog({ lines: [enter(11, 1, 0x10), pool(11, 2, "decay idle 3 freed 0 global 5")] }, options);
    await expect(bad).rejects.toBeInstanceOf(InputError);
    await expect(replayLog({ lines: [enter(11, 1, 0x10), pool(11, 2, "decay idle 3 freed 0 global 5")] }, options)).rejects.toThrow(
      /^lines:2: malformed qemu_coroutine_pool_decay: no 'due N' in '11@7\.002000:qemu_coroutine_pool_decay idle 3 freed 0 global.*'; expected idle N freed N due N locked N global N$/,
    );
  });
});
