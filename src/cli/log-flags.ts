/** The flags every command that reads a QEMU log shares: what the log does not record, the pool increase. */
import type { PoolIncreaseOptions } from "../api/replay.js";
import { InputError } from "../errors.js";
import { integerFlag, type OptionSpec } from "./args.js";

export const POOL_INCREASE_OPTIONS: OptionSpec = {
  "pool-inc": { type: "string" },
  "virtio-blk": { type: "string" },
};

export const POOL_INCREASE_HELP = `  --pool-inc N           a QEMU log's pool size increase, which the log does not record:
                         the sum of num-queues × queue-size / 2 over the VM's virtio-blk
                         disks (default 0: right for emulated NVMe and most devices)
  --virtio-blk NQxQS,... the VM's virtio-blk disks instead (num-queues x queue-size each,
                         e.g. 2x512,2x512 for two disks of 2 queues of 512): the increase
                         is computed from them`;

/** The largest increase: a trace's `inc` takes 32 bits. */
const MAX_POOL_INCREASE = 0xffffffff;

/** --pool-inc or --virtio-blk, checked (not both), as the API's options. */
export function poolIncreaseFlags(command: string, values: Record<string, unknown>): PoolIncreaseOptions {
  const poolIncrease = integerFlag("pool-inc", values["pool-inc"], 0, MAX_POOL_INCREASE);
  const virtioBlk = values["virtio-blk"];
  if (poolIncrease !== undefined && virtioBlk !== undefined) {
    throw new InputError("ERR_USAGE", `${command}: --pool-inc and --virtio-blk together; give the increase or the disks it comes from, not both`);
  }
  return virtioBlk === undefined ? { poolIncrease } : { virtioBlk: String(virtioBlk) };
}
