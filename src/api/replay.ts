/**
 * replay(): a coropool trace or a QEMU log replayed deterministically under
 * each policy, the results exactly those `coropool replay --json` prints.
 */
import { CoropoolError } from "../errors.js";
import { BUNDLED_TRACES, bundledOrPath } from "../experiments/bundled.js";
import type { VirtioBlkDevice } from "../replay/pool-increase.js";
import { apiDoor, type Door } from "../options/door.js";
import { resolveReplayOptions } from "../options/doors.js";
import { badArgument } from "../options/resolve.js";
import { checkRegion, type PolicyName } from "../pools/index.js";
import type { DecodedInput } from "../replay/input-format.js";
import type { LogInput } from "../replay/line-source.js";
import type { ReplayOutcome, ReplayResult } from "../replay/replay.js";
import { replayLog } from "../replay/replay-log.js";

/** What a QEMU log does not record: the pool size increase its devices made (give one of the two, or neither: 0). */
export interface PoolIncreaseOptions {
  /** The increase itself: the sum of num-queues × queue-size / 2 over the VM's virtio-blk devices. */
  poolIncrease?: number;
  /** The VM's virtio-blk devices, "NQxQS,NQxQS" (e.g. "2x512,2x512") or as objects; the increase is computed from them. */
  virtioBlk?: string | readonly VirtioBlkDevice[];
}

export interface ReplayOptions extends PoolIncreaseOptions {
  /** The policies to replay under, each in turn (required, as for the CLI). */
  policies: PolicyName[];
  /** The VMA limit; default: this host's vm.max_map_count (65530 if unreadable). */
  maxMapCount?: number;
  /** VMAs the process maps besides coroutine stacks; default: QEMU_BASELINE_VMAS (what an idle QEMU maps), so a replay depends only on its input. */
  baselineVmas?: number;
  /** batched: no hard cap from max_map_count (QEMU's practical behaviour on Linux). */
  uncapped?: boolean;
  /** Walk each replay's region with the invariant checker at the end; a violation throws ERR_INVARIANT. */
  check?: boolean;
}

/** What replay() and `coropool replay` can take: a bundled trace's name, a path, or the lines themselves. */
export type TraceInput = string | Iterable<string> | AsyncIterable<string>;

/**
 * Replays `trace` — a coropool trace or a QEMU log (plain or gzip, told by
 * its content): a bundled trace's name, a path, or the lines (an iterable or
 * async iterable of strings) — once per policy, in one streaming pass. Bad
 * input is an InputError naming the line.
 */
export async function replay(trace: TraceInput, options: ReplayOptions): Promise<ReplayResult[]> {
  return (await replayOutcomes(apiDoor("replay"), trace, options)).outcomes.map((o) => o.result);
}

/** The replays with what the JSON has no key for (the CLI's summary shows it), the input's source, and what the input was. */
export async function replayOutcomes(door: Door, trace: TraceInput, options: unknown): Promise<{ source: string; input: DecodedInput; outcomes: ReplayOutcome[] }> {
  const request = resolveReplayOptions(door, options);
  const { input: log, source } = logInputOf(door, trace);
  const { input, outcomes } = await replayLog(log, { ...request, source });
  if (request.check) {
    const violations = outcomes.flatMap((o) => checkRegion(o.region, o.result.live).violations.map((v) => `${o.result.policy}: ${v}`));
    if (violations.length > 0) {
      throw new CoropoolError("ERR_INVARIANT", `the invariant checker found ${violations.length} violation(s): ${violations.join("; ")}`);
    }
  }
  return { source, input, outcomes };
}

const TRACE_ALLOWED = "a bundled trace's name, a file's path, or the lines (an iterable or async iterable of strings)";

/** A trace input as the streaming reader takes it, and the name messages give it ("trace" for lines). */
export function logInputOf(door: Door, trace: TraceInput): { input: LogInput; source: string } {
  if (typeof trace === "string") {
    const path = bundledOrPath(BUNDLED_TRACES, trace, "fn" in door ? door.fn : door.command);
    return { input: { path }, source: path };
  }
  const iterable = typeof trace === "object" && trace !== null && (Symbol.iterator in trace || Symbol.asyncIterator in trace);
  if (!iterable) throw badArgument(door, "trace", trace, TRACE_ALLOWED);
  return { input: { lines: trace }, source: "trace" };
}
