import { CONTROLLER_THREAD, Slot, SlotState, Thread, ThreadStatus } from "../shared/layout.js";
import type { SharedRegion } from "../shared/region.js";
import type { StackAllocator } from "../stacks/stack-allocator.js";
import { orphanedGlobalSlots, type PoolPolicy } from "../pools/index.js";
import type { DeadThreadReport } from "./protocol.js";

/** The thread a failed task had claimed, or null if it died before claiming one. */
export function threadOfTask(region: SharedRegion, taskId: number): number | null {
  for (let t = 0; t < region.threadCapacity; t++) {
    if (region.threadWord(t, Thread.TASK_ID) === taskId + 1) return t;
  }
  return null;
}

/** From now on the thread is dead: robust lock waiters may take over a lock it held. */
export function markDead(region: SharedRegion, thread: number): void {
  Atomics.store(region.i32, region.threadBase(thread) + Thread.STATUS, ThreadStatus.DEAD);
}

/**
 * After the run (every surviving worker done), find what a dead thread still
 * held and free it, so the invariant "VMAs = baseline + 2 × existing stacks"
 * holds and the counter can come back to its baseline: its local pool (the
 * policy's business, if its thread exit never ran) and, through the stack
 * table, the stacks of its coroutines that never terminated.
 */
export function reclaimDeadThread(
  region: SharedRegion,
  stacks: StackAllocator,
  policy: PoolPolicy,
  thread: number,
  reason: string,
  exitRan: boolean,
): DeadThreadReport {
  const reclaimedFromPool = exitRan ? 0 : policy.reclaimDeadThread(thread);
  const i32 = region.i32;
  let reclaimedLive = 0;
  for (let slot = 0; slot < region.stackCapacity; slot++) {
    const s = region.slotBase(slot);
    if (i32[s + Slot.STATE] === SlotState.LIVE && i32[s + Slot.OWNER] === thread) {
      stacks.free(slot, CONTROLLER_THREAD);
      i32[region.threadBase(thread) + Thread.LIVE]!--;
      reclaimedLive++;
    }
  }
  return { thread, reason, reclaimedFromPool, reclaimedLive };
}

/**
 * Stacks marked as in the global pool that no list of the policy reaches: a
 * batch a dead thread had unlinked from (or not yet linked into) the global
 * pool when it died. Freed; returns how many.
 */
export function reclaimOrphanedGlobalStacks(region: SharedRegion, stacks: StackAllocator, policy: PoolPolicy): number {
  const orphans = orphanedGlobalSlots(region, policy);
  for (const slot of orphans) stacks.free(slot, CONTROLLER_THREAD);
  return orphans.length;
}
