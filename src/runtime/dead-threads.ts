import { Header, NO_SLOT, Slot, SlotState, Thread, ThreadStatus } from "../shared/layout.js";
import type { SharedRegion } from "../shared/region.js";
import type { StackAllocator } from "../stacks/stack-allocator.js";
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
 * After the run (every surviving worker done), find through the stack table
 * what a dead thread still held and free it, so the invariant
 * "VMAs = baseline + 2 × existing stacks" holds and the counter can come back
 * to its baseline: its local pool (if its thread exit never ran) and the
 * stacks of its coroutines that never terminated.
 */
export function reclaimDeadThread(region: SharedRegion, stacks: StackAllocator, thread: number, reason: string, exitRan: boolean): DeadThreadReport {
  const i32 = region.i32;
  const base = region.threadBase(thread);
  let reclaimedFromPool = 0;
  if (!exitRan) {
    reclaimedFromPool += stacks.freeList(i32[base + Thread.LOCAL_HEAD_0]!, -1);
    reclaimedFromPool += stacks.freeList(i32[base + Thread.LOCAL_HEAD_1]!, -1);
  }
  for (const field of [Thread.LOCAL_HEAD_0, Thread.LOCAL_HEAD_1, Thread.LAST_HANDED_HEAD]) i32[base + field] = NO_SLOT;
  i32[base + Thread.LOCAL_SIZE_0] = 0;
  i32[base + Thread.LOCAL_SIZE_1] = 0;
  let reclaimedLive = 0;
  for (let slot = 0; slot < region.stackCapacity; slot++) {
    const s = region.slotBase(slot);
    if (i32[s + Slot.STATE] === SlotState.LIVE && i32[s + Slot.OWNER] === thread) {
      stacks.free(slot, -1);
      i32[base + Thread.LIVE]!--;
      reclaimedLive++;
    }
  }
  return { thread, reason, reclaimedFromPool, reclaimedLive };
}

/**
 * Stacks marked as in the global pool that no global list reaches: a batch a
 * dead thread had unlinked from (or not yet linked into) the global pool when
 * it died. Freed; returns how many.
 */
export function reclaimOrphanedGlobalStacks(region: SharedRegion, stacks: StackAllocator): number {
  const i32 = region.i32;
  const reachable = new Set<number>();
  const batched = region.policy === "batched";
  for (let head = i32[Header.GLOBAL_POOL_HEAD]!; head !== NO_SLOT && reachable.size <= region.stackCapacity; ) {
    for (let slot = head; slot !== NO_SLOT && !reachable.has(slot); slot = i32[region.slotBase(slot) + Slot.NEXT]!) reachable.add(slot);
    head = batched ? i32[region.slotBase(head) + Slot.BATCH_NEXT]! : NO_SLOT;
  }
  let freed = 0;
  for (let slot = 0; slot < region.stackCapacity; slot++) {
    if (i32[region.slotBase(slot) + Slot.STATE] === SlotState.GLOBAL_POOL && !reachable.has(slot)) {
      stacks.free(slot, -1);
      freed++;
    }
  }
  return freed;
}
