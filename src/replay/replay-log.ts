import type { PolicyName } from "../pools/index.js";
import { decodeInput, type DecodedInput } from "./input-format.js";
import { inputName, type LogInput } from "./line-source.js";
import { sinkForAll } from "./pool-events.js";
import { PolicyReplay, type ReplayOutcome } from "./replay.js";

/** A policy to replay under; `uncapped` is batched as QEMU runs it on Linux (no hard cap). */
export interface PolicySpec {
  policy: PolicyName;
  uncapped?: boolean;
}

export interface LogReplayOptions {
  policies: readonly PolicySpec[];
  maxMapCount: number;
  baselineVmas: number;
  /**
   * A QEMU log's pool size increase (the log does not record it): the sum of
   * num-queues × queue-size / 2 over its virtio-blk devices (poolIncreaseFor).
   * 0 by default. A coropool trace has its own `inc` lines and ignores this.
   */
  poolIncrease?: number;
  /** Messages name the input so; the path, "text" or "lines" by default. */
  source?: string;
  /** Whose clock ends elastic's decay periods (ReplayOptions.decayClock): "qemu" for a patched QEMU's log. */
  decayClock?: "events" | "qemu";
}

/** One input replayed under several policies. */
export interface LogReplay {
  input: DecodedInput;
  /** One per policy, in the order asked. */
  outcomes: ReplayOutcome[];
}

/**
 * Replays a coropool trace or a QEMU log (plain or gzip, recognised by
 * content) under every policy in lockstep: one pass over the input, read in
 * chunks, so memory follows the coroutines live at once, never the input's
 * length. Bad input is an InputError with its line, whatever a policy did.
 *
 * `peak` is in each result's JSON for a QEMU log and for a trace with times;
 * a trace without times keeps today's JSON byte for byte.
 */
export async function replayLog(input: LogInput, options: LogReplayOptions): Promise<LogReplay> {
  const replays = options.policies.map(
    (p) =>
      new PolicyReplay({
        policy: p.policy,
        maxMapCount: options.maxMapCount,
        baselineVmas: options.baselineVmas,
        uncapped: p.uncapped === true,
        ...(options.decayClock === undefined ? {} : { decayClock: options.decayClock }),
      }),
  );
  const decoded = await decodeInput(input, sinkForAll(replays), {
    source: options.source ?? inputName(input),
    poolIncrease: options.poolIncrease ?? 0,
  });
  const view = { showPeak: decoded.format === "qemu-log" || decoded.hasTimes, firstTime: decoded.firstTime };
  return { input: decoded, outcomes: replays.map((r) => r.outcome(view)) };
}
