import type { ThreadEnv } from "../../runtime/thread-env.js";
import type { DeviceModel } from "../types.js";
import { BlockDevice } from "./device.js";
import { runRandreadJob, type RandreadJobResult } from "./engine.js";

/** One IOThread's randread job: its own device, block size and iodepth. */
export interface RandreadPart {
  kind: "randread";
  blockSize: number;
  iodepth: number;
  durationMs: number;
  device: DeviceModel;
}

export type RandreadPartResult = RandreadJobResult | { aborted: true };

/**
 * Runs the job on this thread. A VMA-exhaustion failure is recorded like any
 * other run's abort; the requests in flight keep their stacks, as QEMU's
 * abort() would leave them, and the run's result says so.
 */
export function runRandreadPart(env: ThreadEnv, part: RandreadPart): RandreadPartResult {
  let result: RandreadPartResult = { aborted: true };
  env.tryCreate(() => {
    result = runRandreadJob({
      ctx: env.coroutines,
      device: new BlockDevice(part.device),
      blockSize: part.blockSize,
      iodepth: part.iodepth,
      durationMs: part.durationMs,
      shouldStop: () => env.aborted(),
    });
  });
  env.progress();
  return result;
}

export function isJobResult(r: RandreadPartResult): r is RandreadJobResult {
  return !("aborted" in r);
}
