import { Header, NO_OWNER, NO_SLOT, Slot, SlotState, Vma } from "../shared/layout.js";
import type { SharedRegion } from "../shared/region.js";
import { freeSlotHead } from "../stacks/free-slots.js";
import { StackAllocator } from "../stacks/stack-allocator.js";
import { VMAS_PER_STACK } from "../vma/vma-counter.js";
import { holdDecay } from "./decay-gate.js";
import type { ListWalker, PoolPolicy } from "./policy.js";
import { openPolicy } from "./registry.js";

/** What a walk of the region found. */
export interface RegionCensus {
  /** Stacks found on each kind of list, and in each state outside lists. */
  inGlobalPool: number;
  inLocalPools: number[];
  live: number;
  leaked: number;
  freeSlots: number;
  created: number;
  freed: number;
  vmas: { current: number; expected: number };
  /**
   * Per thread: the local pool's recorded size minus its real length. Only
   * legacy's can differ: QEMU's alloc_pool_size is "just a heuristic" and may
   * be skewed by a push that raced a take-all; the skew is faithful, so it is
   * reported, not a violation.
   */
  localSizeSkew: number[];
  /**
   * The shared pool's recorded size minus its real length. legacy: a push
   * links the stack, then counts it; a take-all landing in between takes the
   * stack uncounted and leaves the size one above the list — the other half
   * of the skew above, equally faithful.
   */
  globalSizeSkew: number;
  violations: string[];
}

/**
 * Walks the whole region at a quiescent point (no thread in a pool operation)
 * and checks that every stack is in exactly one place: each slot is reached
 * at most once, from the list its state word names; pool sizes match their
 * lists; stacks created - freed = live + pooled + leaked; and the VMA counter
 * equals baseline + 2 × stacks. The pools' own lists are walked by the policy
 * (its census), which knows their shape; `policy` defaults to a fresh view
 * of the region's policy.
 */
export function checkRegion(region: SharedRegion, expectedLive?: number, policy: PoolPolicy = censusView(region)): RegionCensus {
  // The workers may be stopped at a barrier, but not the main thread's tick: hold it off (decay-gate.ts).
  return holdDecay(region, () => new RegionWalker(region).census(policy, expectedLive));
}

/**
 * Stacks marked as in the global pool that none of the policy's lists
 * reaches: a batch a dead thread had unlinked from (or not yet linked into)
 * the global pool when it died. At a quiescent point only.
 */
export function orphanedGlobalSlots(region: SharedRegion, policy: PoolPolicy): number[] {
  const walker = new RegionWalker(region);
  policy.census(walker);
  return walker.unreached().filter((slot) => region.i32[region.slotBase(slot) + Slot.STATE] === SlotState.GLOBAL_POOL);
}

/** A view of the region's policy for walking it only: its stack allocator is never used to map or free. */
function censusView(region: SharedRegion): PoolPolicy {
  return openPolicy(region, new StackAllocator(region));
}

class RegionWalker implements ListWalker {
  /** Per slot: 0 if no list reached it yet, else 1 + the index of the list that did (in `lists`). */
  private readonly seenBy: Int32Array;
  private readonly lists: string[] = [];
  readonly violations: string[] = [];

  constructor(private readonly region: SharedRegion) {
    this.seenBy = new Int32Array(region.stackCapacity);
  }

  census(policy: PoolPolicy, expectedLive?: number): RegionCensus {
    const r = this.region;
    const pools = policy.census(this);
    const freeSlots = this.walk(freeSlotHead(r), SlotState.FREE, NO_OWNER, "the free-slot list");
    const stranded = this.walk(r.i32[Header.STRANDED_HEAD]!, SlotState.STRANDED, NO_OWNER, "the stranded mappings");
    this.expect(stranded === r.readU32(Header.STRANDED_MAPPINGS), `${stranded} stranded mappings listed but ${r.readU32(Header.STRANDED_MAPPINGS)} counted`);
    const { live, leaked } = this.countUnlisted();
    const totals = r.totals();
    const pooled = pools.global + pools.local.reduce((a, b) => a + b, 0);
    const existing = totals.created - totals.freed;
    this.expect(existing === live + pooled + leaked, `stacks created - freed = ${existing}, but live + pooled + leaked = ${live} + ${pooled} + ${leaked}`);
    this.expect(leaked === totals.leaked, `${leaked} slots are marked leaked but ${totals.leaked} leaks were counted`);
    this.expect(freeSlots + existing + stranded === r.stackCapacity, `${freeSlots} free slots + ${existing} stacks + ${stranded} stranded != ${r.stackCapacity} slots`);
    if (expectedLive !== undefined) this.expect(live === expectedLive, `${live} stacks are live, expected ${expectedLive}`);
    // A failed guard page leaves its mapping's VMA counted, as QEMU's abort does.
    const strandedMapping = r.readU32(Header.STRANDED_MAPPINGS);
    const current = r.readU32(Vma.CURRENT);
    const expected = r.readU32(Vma.BASELINE) + VMAS_PER_STACK * existing + strandedMapping;
    this.expect(current === expected, `the VMA counter says ${current} but baseline + 2 x ${existing} stacks${strandedMapping ? ` + ${strandedMapping} stranded mapping(s)` : ""} = ${expected}`);
    return {
      inGlobalPool: pools.global,
      inLocalPools: pools.local,
      live,
      leaked,
      freeSlots,
      created: totals.created,
      freed: totals.freed,
      vmas: { current, expected },
      localSizeSkew: pools.localSizeSkew,
      globalSizeSkew: pools.globalSizeSkew,
      violations: this.violations,
    };
  }

  /** Slots on no list must be live or leaked. */
  private countUnlisted(): { live: number; leaked: number } {
    const r = this.region;
    let live = 0;
    let leaked = 0;
    for (const s of this.unreached()) {
      const state = r.i32[r.slotBase(s) + Slot.STATE];
      if (state === SlotState.LIVE) live++;
      else if (state === SlotState.LEAKED) leaked++;
      else this.expect(false, `slot ${s} is on no list but its state is ${stateName(state!)}`);
    }
    return { live, leaked };
  }

  /** The slots no walk so far has reached, in table order. */
  unreached(): number[] {
    const slots: number[] = [];
    for (let s = 0; s < this.region.stackCapacity; s++) if (this.seenBy[s] === 0) slots.push(s);
    return slots;
  }

  walk(head: number, state: number, owner: number, where: string): number {
    const r = this.region;
    let n = 0;
    for (let s = head; s !== NO_SLOT; n++) {
      if (s < 0 || s >= r.stackCapacity) return this.expect(false, `${where} links to slot ${s}, outside the table`), n;
      const previous = this.seenBy[s]! > 0 ? this.lists[this.seenBy[s]! - 1] : undefined;
      if (previous !== undefined) return this.expect(false, `slot ${s} is in ${where} and also in ${previous}`), n;
      this.seenBy[s] = this.listId(where);
      const base = r.slotBase(s);
      const actual = r.i32[base + Slot.STATE]!;
      this.expect(actual === state, `slot ${s} is in ${where} but its state is ${stateName(actual)}`);
      if (owner >= 0) this.expect(r.i32[base + Slot.OWNER] === owner, `slot ${s} is in ${where} but its owner is T${r.i32[base + Slot.OWNER]}`);
      s = r.i32[base + Slot.NEXT]!;
    }
    return n;
  }

  private listId(where: string): number {
    if (this.lists[this.lists.length - 1] !== where) this.lists.push(where);
    return this.lists.length;
  }

  expect(ok: boolean, message: string): void {
    if (!ok) this.violations.push(message);
  }
}

function stateName(state: number): string {
  const entry = Object.entries(SlotState).find(([, v]) => v === state);
  return entry ? entry[0] : `unknown (${state})`;
}
