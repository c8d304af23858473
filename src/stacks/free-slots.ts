import { Totals } from "../shared/layout.js";
import type { SharedRegion } from "../shared/region.js";
import { listLength, popSlotTagged, pushSlotTagged, taggedHeadIndex } from "../shared/slot-list.js";

/**
 * The list of stack-table slots that hold no stack, shared by every thread: a
 * lock-free LIFO (Treiber stack) on a tagged head, since unlike the legacy
 * release pool it pops single entries (see shared/slot-list.ts on ABA).
 */

/** Takes a free slot, or returns NO_SLOT when the table is full. */
export function popFreeSlot(region: SharedRegion): number {
  return popSlotTagged(region.i64, Totals.FREE_SLOT_HEAD, region.i32, region.slotsBase);
}

/** Gives a slot whose stack was unmapped back to the free list. */
export function pushFreeSlot(region: SharedRegion, slot: number): void {
  pushSlotTagged(region.i64, Totals.FREE_SLOT_HEAD, region.i32, region.slotsBase, slot);
}

/** The first slot of the free list (NO_SLOT when the table is full). */
export function freeSlotHead(region: SharedRegion): number {
  return taggedHeadIndex(Atomics.load(region.i64, Totals.FREE_SLOT_HEAD));
}

/** Slots on the free list (walks it: for quiescent checks only). */
export function countFreeSlots(region: SharedRegion): number {
  return listLength(region.i32, region.slotsBase, freeSlotHead(region), region.stackCapacity, "free-slot list");
}
