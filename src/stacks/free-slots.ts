import { NO_SLOT, Slot, Totals } from "../shared/layout.js";
import type { SharedRegion } from "../shared/region.js";

/**
 * The list of stack-table slots that hold no stack, shared by every thread.
 *
 * A lock-free LIFO (Treiber stack). Unlike the legacy release pool it pops
 * single entries, so a plain index head would suffer ABA: a thread reads head
 * A and A.next = B, another pops A and B and pushes A back, and the first
 * thread's CAS(A -> B) succeeds with B in use. The head is therefore a 64-bit
 * word holding a tag that every successful CAS bumps, next to the index.
 */
const INDEX_MASK = 0xffffffffn;
const TAG_SHIFT = 32n;

/** (tag, index) -> head word; index NO_SLOT is stored as 0. */
export function packFreeHead(tag: bigint, index: number): bigint {
  return BigInt.asIntN(64, (tag << TAG_SHIFT) | BigInt(index + 1));
}

function headIndex(head: bigint): number {
  return Number(head & INDEX_MASK) - 1;
}

function nextTag(head: bigint): bigint {
  return (BigInt.asUintN(64, head) >> TAG_SHIFT) + 1n;
}

/** Takes a free slot, or returns NO_SLOT when the table is full. */
export function popFreeSlot(region: SharedRegion): number {
  const { i64, i32 } = region;
  for (;;) {
    const head = Atomics.load(i64, Totals.FREE_SLOT_HEAD);
    const slot = headIndex(head);
    if (slot === NO_SLOT) return NO_SLOT;
    const next = Atomics.load(i32, region.slotBase(slot) + Slot.NEXT);
    const replacement = packFreeHead(nextTag(head), next);
    if (Atomics.compareExchange(i64, Totals.FREE_SLOT_HEAD, head, replacement) === head) return slot;
  }
}

/** Gives a slot whose stack was unmapped back to the free list. */
export function pushFreeSlot(region: SharedRegion, slot: number): void {
  const { i64, i32 } = region;
  for (;;) {
    const head = Atomics.load(i64, Totals.FREE_SLOT_HEAD);
    Atomics.store(i32, region.slotBase(slot) + Slot.NEXT, headIndex(head));
    const replacement = packFreeHead(nextTag(head), slot);
    if (Atomics.compareExchange(i64, Totals.FREE_SLOT_HEAD, head, replacement) === head) return;
  }
}

/** Slots on the free list (walks it: for quiescent checks only). */
export function countFreeSlots(region: SharedRegion): number {
  let n = 0;
  for (let s = headIndex(Atomics.load(region.i64, Totals.FREE_SLOT_HEAD)); s !== NO_SLOT; n++) {
    s = Atomics.load(region.i32, region.slotBase(s) + Slot.NEXT);
    if (n > region.stackCapacity) throw new Error("free-slot list has a cycle");
  }
  return n;
}
