/**
 * replay(): a coropool trace or a QEMU log replayed deterministically under
 * each policy, the results exactly those `coropool replay --json` prints.
 */
import { CoropoolError, InputError } from "../errors.js";
import { BUNDLED_TRACES, bundledOrPath } from "../experiments/bundled.js";
import { checkRegion, type PolicyName } from "../pools/index.js";
import type { DecodedInput } from "../replay/input-format.js";
import type { LogInput } from "../replay/line-source.js";
import { parseVirtioBlkSpec, poolIncreaseFor, type VirtioBlkDevice } from "../replay/pool-increase.js";
import type { ReplayOutcome, ReplayResult } from "../replay/replay.js";
import { replayLog } from "../replay/replay-log.js";
import { defaultBaselineVmas, readMaxMapCount } from "../vma/limits.js";

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
  /** VMAs the rest of the process uses; default: this process's /proc/self/maps. */
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
  return (await replayOutcomes(trace, options)).outcomes.map((o) => o.result);
}

/** The replays with what the JSON has no key for (the CLI's summary shows it), the input's source, and what the input was. */
export async function replayOutcomes(trace: TraceInput, options: ReplayOptions): Promise<{ source: string; input: DecodedInput; outcomes: ReplayOutcome[] }> {
  const { input: log, source } = logInputOf(trace);
  const { input, outcomes } = await replayLog(log, {
    policies: options.policies.map((policy) => ({ policy, uncapped: options.uncapped === true })),
    maxMapCount: options.maxMapCount ?? readMaxMapCount().value,
    baselineVmas: options.baselineVmas ?? defaultBaselineVmas().value,
    poolIncrease: poolIncreaseOf(options),
    source,
  });
  if (options.check) {
    const violations = outcomes.flatMap((o) => checkRegion(o.region, o.result.live).violations.map((v) => `${o.result.policy}: ${v}`));
    if (violations.length > 0) {
      throw new CoropoolError("ERR_INVARIANT", `the invariant checker found ${violations.length} violation(s): ${violations.join("; ")}`);
    }
  }
  return { source, input, outcomes };
}

/** A trace input as the streaming reader takes it, and the name messages give it ("trace" for lines). */
export function logInputOf(trace: TraceInput): { input: LogInput; source: string } {
  if (typeof trace === "string") {
    const path = bundledOrPath(BUNDLED_TRACES, trace, "replay");
    return { input: { path }, source: path };
  }
  return { input: { lines: trace }, source: "trace" };
}

/** The largest amount a pool size change can be (a trace's `inc` takes 32 bits). */
const MAX_POOL_INCREASE = 0xffffffff;

/** The pool increase the options give: poolIncrease, or computed from virtioBlk, or 0; both at once is an error. */
export function poolIncreaseOf(options: PoolIncreaseOptions): number {
  const { poolIncrease, virtioBlk } = options;
  if (poolIncrease !== undefined && virtioBlk !== undefined) {
    throw new InputError("ERR_USAGE", "give the pool increase (poolIncrease, --pool-inc) or the virtio-blk devices it comes from (virtioBlk, --virtio-blk), not both");
  }
  if (virtioBlk !== undefined) {
    // Objects are checked as the same devices written out would be.
    const spec = typeof virtioBlk === "string" ? virtioBlk : virtioBlk.map((d) => `${d.numQueues}x${d.queueSize}`).join(",");
    return poolIncreaseFor(parseVirtioBlkSpec(spec));
  }
  if (poolIncrease === undefined) return 0;
  if (!(Number.isInteger(poolIncrease) && poolIncrease >= 0 && poolIncrease <= MAX_POOL_INCREASE)) {
    throw new InputError("ERR_USAGE", `bad poolIncrease ${String(poolIncrease)}; allowed: an integer from 0 to ${MAX_POOL_INCREASE}`);
  }
  return poolIncrease;
}
