import { Header, I64_WORDS, NO_SLOT, SLOT_WORDS, Slot, THREAD_WORDS, THREADS_BASE, Totals, Vma } from "../shared/layout.js";
import { SharedRegion } from "../shared/region.js";
import { packTaggedHead } from "../shared/slot-list.js";

/**
 * The same region with room for more threads or more stack slots.
 *
 * A streamed log does not say up front how many threads it has, nor how many
 * stacks a policy will hold at its peak (a what-if replays with no VMA limit
 * at all), and a SharedArrayBuffer cannot grow in place. So the replay starts
 * small and, when a thread or a slot is missing, moves every word into a
 * bigger region: the header and counters as they are, each thread's words to
 * the same index, each slot's words to the same slot number, and the new
 * slots onto the free-slot list. Pools are lists of slot numbers, so every
 * list stays valid. The policies keep all their state in the region, so a
 * policy opened on the new region carries on exactly where the old one was.
 *
 * Only for a replay's private region: nobody else may hold a view of it.
 */
export function regrownRegion(old: SharedRegion, threads: number, stackCapacity: number): SharedRegion {
  const grown = SharedRegion.create({
    policyId: old.i32[Header.POLICY]!,
    threads: Math.max(threads, old.threadCapacity),
    stackCapacity: Math.max(stackCapacity, old.stackCapacity),
    vmaLimit: old.i32[Vma.LIMIT]!,
    baselineVmas: old.i32[Vma.BASELINE]!,
    initialPoolMaxSize: old.i32[Header.POOL_MAX_SIZE]!,
    hardMaxSize: old.i32[Header.HARD_MAX_SIZE]!,
  });
  copyHeader(old, grown);
  copyWords(old.i32, THREADS_BASE, grown.i32, THREADS_BASE, old.threadCapacity * THREAD_WORDS);
  copyWords(old.i32, old.slotsBase, grown.i32, grown.slotsBase, old.stackCapacity * SLOT_WORDS);
  for (let w = 0; w < I64_WORDS; w++) grown.i64[w] = old.i64[w]!;
  appendNewSlotsToFreeList(old, grown);
  return grown;
}

/** Every header word but the two capacities, which are the new region's own. */
function copyHeader(old: SharedRegion, grown: SharedRegion): void {
  for (let w = 0; w < THREADS_BASE; w++) {
    if (w === Header.THREAD_CAPACITY || w === Header.STACK_CAPACITY) continue;
    grown.i32[w] = old.i32[w]!;
  }
}

function copyWords(from: Int32Array, fromBase: number, to: Int32Array, toBase: number, words: number): void {
  to.set(from.subarray(fromBase, fromBase + words), toBase);
}

/**
 * SharedRegion.create chained the new slots s -> s+1 -> ... -> NO_SLOT; the
 * chain's end now leads on to what was free in the old region. (The head's
 * ABA tag restarts at 0: no other thread can hold an old head of this list.)
 */
function appendNewSlotsToFreeList(old: SharedRegion, grown: SharedRegion): void {
  const oldHead = freeListHead(old);
  if (grown.stackCapacity === old.stackCapacity) {
    grown.i64[Totals.FREE_SLOT_HEAD] = packTaggedHead(0n, oldHead);
    return;
  }
  grown.i32[grown.slotBase(grown.stackCapacity - 1) + Slot.NEXT] = oldHead;
  grown.i64[Totals.FREE_SLOT_HEAD] = packTaggedHead(0n, old.stackCapacity);
}

/** The index in a packed free-list head: (tag << 32) | (index + 1), see stacks/free-slots. */
function freeListHead(region: SharedRegion): number {
  const index = Number(BigInt.asUintN(32, region.i64[Totals.FREE_SLOT_HEAD]!)) - 1;
  return index < 0 ? NO_SLOT : index;
}
