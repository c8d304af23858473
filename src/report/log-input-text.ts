/**
 * What a replayed input was, in words: the part of replay's, import's and
 * whatif's answer that belongs to the log, not to a policy. For a QEMU log
 * that is what coropool had to infer: its threads (thread ids, or
 * AioContexts when the lines carry none), the pool increase it was told
 * about, and the events it skipped.
 */
import type { DecodedInput } from "../replay/input-format.js";

/** An input as described: the decoder's facts without its clock. */
export type DescribedInput = Pick<DecodedInput, "format" | "lines" | "maxLive" | "creates" | "qemu">;

/** One sentence a line. */
export function describeLogInput(source: string, input: DescribedInput): string[] {
  const coroutines = `${input.creates} coroutines created, at most ${input.maxLive} live at once`;
  const { qemu } = input;
  if (qemu === null) return [`${source}: a coropool trace of ${input.lines} lines; ${coroutines}`];
  const lines = [
    `${source}: a QEMU log of ${input.lines} lines: ${qemu.enters} enters (${qemu.reEnters} of a live coroutine), ${qemu.terminates} terminates; ${coroutines}`,
    `threads are ${qemu.threadsAre}: ${qemu.threads.map((label, t) => `T${t} = ${label}`).join(", ") || "none"}`,
  ];
  // The main thread's two AioContexts matter only when there are two contexts to tell apart.
  if (qemu.note !== null && qemu.threads.length > 1) lines.push(`note: ${qemu.note}`);
  lines.push(
    qemu.poolIncrease > 0
      ? `pool increase: ${qemu.poolIncrease}, applied before the first event`
      : "pool increase: 0 (none given: right for emulated NVMe; each virtio-blk disk adds num-queues × queue-size / 2)",
  );
  lines.push(`ignored: ${qemu.otherEvents} other trace events, ${qemu.unmatchedTerminates} terminates of coroutines entered before the log began`);
  return lines;
}
