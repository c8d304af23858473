import * as layout from "./layout.js";

/**
 * The intrusive lists of the stack table: every pool, the free-slot list and
 * the stranded mappings are singly-linked lists of slot indices threaded
 * through each slot's NEXT word (QEMU's QSLIST), with a head word elsewhere.
 *
 *   head word ──> slot a ──NEXT──> slot b ──NEXT──> ... ──NEXT──> NO_SLOT
 *
 * Three kinds of head, one set of operations each:
 *   - a plain Int32 head that only its owner writes (a thread's local pool,
 *     or a list under a lock): pushSlot / popSlot, no atomics;
 *   - an Int32 head many threads push onto with a CAS and that is only ever
 *     taken whole (legacy's release pool, the stranded mappings):
 *     pushSlotAtomic / takeList; no single pops, so no ABA problem;
 *   - a tagged 64-bit head for a list many threads push onto and pop single
 *     entries from (the free-slot list): pushSlotTagged / popSlotTagged.
 *
 * Every function takes the Int32 view and the index of slot 0 (the region's
 * slotsBase) rather than the region, so the region itself can use them and
 * the pools' hot paths pass what they already hold.
 */

// Module constants rather than imported bindings on the hot paths (see
// pools/batched.ts for why, and what that bought).
const { NO_SLOT, SLOT_WORDS } = layout;
const { NEXT, STATE, OWNER } = layout.Slot;

/** Int32 index of `slot`'s first word in a table whose slot 0 starts at `slotsBase`. */
export function slotAt(slotsBase: number, slot: number): number {
  return slotsBase + slot * SLOT_WORDS;
}

/** Writes where `slot`'s stack is: its state and the thread owning it (NO_OWNER for none). */
export function labelSlot(i32: Int32Array, slotsBase: number, slot: number, state: number, owner: number): void {
  const s = slotsBase + slot * SLOT_WORDS;
  i32[s + STATE] = state;
  i32[s + OWNER] = owner;
}

/** QSLIST_INSERT_HEAD on a list only the caller writes: `slot`, labelled (state, owner), becomes its head. */
export function pushSlot(i32: Int32Array, slotsBase: number, headAt: number, slot: number, state: number, owner: number): void {
  const s = slotsBase + slot * SLOT_WORDS;
  i32[s + NEXT] = i32[headAt]!;
  i32[s + STATE] = state;
  i32[s + OWNER] = owner;
  i32[headAt] = slot;
}

/** QSLIST_REMOVE_HEAD on a list only the caller writes: its head slot, unlinked, or NO_SLOT if it is empty. */
export function popSlot(i32: Int32Array, slotsBase: number, headAt: number): number {
  const slot = i32[headAt]!;
  if (slot !== NO_SLOT) i32[headAt] = i32[slotsBase + slot * SLOT_WORDS + NEXT]!;
  return slot;
}

/** The slot after `slot` on whichever list holds it. */
export function nextSlot(i32: Int32Array, slotsBase: number, slot: number): number {
  return Atomics.load(i32, slotsBase + slot * SLOT_WORDS + NEXT);
}

/**
 * QSLIST_INSERT_HEAD_ATOMIC: `slot` becomes the head of a list other threads
 * push onto concurrently. Label it first: once the CAS lands, a taker may see it.
 */
export function pushSlotAtomic(i32: Int32Array, slotsBase: number, headAt: number, slot: number): void {
  const nextAt = slotsBase + slot * SLOT_WORDS + NEXT;
  for (;;) {
    const head = Atomics.load(i32, headAt);
    Atomics.store(i32, nextAt, head);
    if (Atomics.compareExchange(i32, headAt, head, slot) === head) return;
  }
}

/** QSLIST_MOVE_ATOMIC: the whole list, unlinked from its head word in one exchange; returns its first slot. */
export function takeList(i32: Int32Array, headAt: number): number {
  return Atomics.exchange(i32, headAt, NO_SLOT);
}

/** Labels every slot of the list starting at `head` (state, owner); returns how many there were. */
export function relabelList(i32: Int32Array, slotsBase: number, head: number, state: number, owner: number): number {
  let n = 0;
  for (let slot = head; slot !== NO_SLOT; n++) {
    const s = slotsBase + slot * SLOT_WORDS;
    i32[s + STATE] = state;
    i32[s + OWNER] = owner;
    slot = Atomics.load(i32, s + NEXT);
  }
  return n;
}

/**
 * Calls `visit` on every slot of the list starting at `head`, reading each
 * link before the visit, so `visit` may relink or free the slot it is given.
 * Returns how many slots it visited.
 */
export function forEachSlot(i32: Int32Array, slotsBase: number, head: number, visit: (slot: number) => void): number {
  let n = 0;
  for (let slot = head; slot !== NO_SLOT; n++) {
    const next = nextSlot(i32, slotsBase, slot);
    visit(slot);
    slot = next;
  }
  return n;
}

/**
 * Slots on the list starting at `head`, counted at a quiescent point; throws
 * once the count passes `limit` (the table's size), which only a cycle can do.
 */
export function listLength(i32: Int32Array, slotsBase: number, head: number, limit: number, what: string): number {
  let n = 0;
  for (let slot = head; slot !== NO_SLOT; n++) {
    if (n > limit) throw new Error(`${what} has a cycle`);
    slot = nextSlot(i32, slotsBase, slot);
  }
  return n;
}

/*
 * Tagged heads. A list that pops single entries while others push suffers
 * ABA with a plain index head: a thread reads head A and A.next = B, another
 * pops A and B and pushes A back, and the first thread's CAS(A -> B) succeeds
 * with B in use. So the head is a 64-bit word: a tag that every successful CAS
 * bumps, above the index (+ 1, so NO_SLOT is stored as 0).
 */
const INDEX_MASK = 0xffffffffn;
const TAG_SHIFT = 32n;

/** (tag, index) -> tagged head word. */
export function packTaggedHead(tag: bigint, index: number): bigint {
  return BigInt.asIntN(64, (tag << TAG_SHIFT) | BigInt(index + 1));
}

/** The first slot of the list a tagged head word names (NO_SLOT if empty). */
export function taggedHeadIndex(head: bigint): number {
  return Number(head & INDEX_MASK) - 1;
}

function nextTag(head: bigint): bigint {
  return (BigInt.asUintN(64, head) >> TAG_SHIFT) + 1n;
}

/** Takes the head slot of the list at i64[headAt], or NO_SLOT when it is empty. */
export function popSlotTagged(i64: BigInt64Array, headAt: number, i32: Int32Array, slotsBase: number): number {
  for (;;) {
    const head = Atomics.load(i64, headAt);
    const slot = taggedHeadIndex(head);
    if (slot === NO_SLOT) return NO_SLOT;
    const replacement = packTaggedHead(nextTag(head), nextSlot(i32, slotsBase, slot));
    if (Atomics.compareExchange(i64, headAt, head, replacement) === head) return slot;
  }
}

/** `slot` becomes the head of the list at i64[headAt]. */
export function pushSlotTagged(i64: BigInt64Array, headAt: number, i32: Int32Array, slotsBase: number, slot: number): void {
  const nextAt = slotsBase + slot * SLOT_WORDS + NEXT;
  for (;;) {
    const head = Atomics.load(i64, headAt);
    Atomics.store(i32, nextAt, taggedHeadIndex(head));
    if (Atomics.compareExchange(i64, headAt, head, packTaggedHead(nextTag(head), slot)) === head) return;
  }
}
