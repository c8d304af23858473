/** The flags every command that reads a QEMU log shares: what the log does not record, the pool increase. */
import { QEMU_BASELINE_VMAS } from "../vma/limits.js";
import { flag, type FlagEntry } from "./flag-table.js";

export const POOL_INCREASE_FLAGS: FlagEntry[] = [
  flag(
    "poolIncrease",
    "N",
    "a QEMU log's pool size increase, which the log does not record: the sum of num-queues × queue-size / 2 over the VM's virtio-blk disks (default 0: right for emulated NVMe and most devices)",
  ),
  flag(
    "virtioBlk",
    "NQxQS,...",
    "the VM's virtio-blk disks instead (num-queues x queue-size each, e.g. 2x512,2x512 for two disks of 2 queues of 512): the increase is computed from them",
  ),
];

/** What a replayed log is held to, as replay and whatif both say it. */
export const LOG_LIMIT_FLAGS: FlagEntry[] = [
  flag("maxMapCount", "N", "the VMA limit (default: /proc/sys/vm/max_map_count, else 65530)"),
  flag(
    "baselineVmas",
    "N",
    `VMAs the process maps besides coroutine stacks (default ${QEMU_BASELINE_VMAS}, what an idle QEMU maps; for your QEMU count its own, e.g. wc -l /proc/$(pidof qemu-system-x86_64)/maps)`,
  ),
];
