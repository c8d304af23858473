import { Header, NO_SLOT, Slot, SlotState, Thread, Totals, Vma } from "./layout.js";
import type { SharedRegion } from "./region.js";
import { VMAS_PER_STACK } from "../vma/vma-counter.js";

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
   * legacy only: alloc_pool_size minus the alloc pool's real length, per
   * thread. QEMU's size is "just a heuristic" and may be skewed by a push that
   * raced a take-all; the skew is faithful, so it is reported, not a violation.
   */
  legacySizeSkew: number[];
  /**
   * legacy only: release_pool_size minus the release pool's real length. A
   * push links the stack, then counts it; a take-all landing in between takes
   * the stack uncounted and leaves the size one above the list — the other
   * half of the skew above, equally faithful.
   */
  legacyReleaseSkew: number;
  violations: string[];
}

/**
 * Walks the whole region at a quiescent point (no thread in a pool operation)
 * and checks that every stack is in exactly one place: each slot is reached
 * at most once, from the list its state word names; pool sizes match their
 * lists; stacks created - freed = live + pooled + leaked; and the VMA counter
 * equals baseline + 2 × stacks.
 */
export function checkRegion(region: SharedRegion, expectedLive?: number): RegionCensus {
  const walker = new RegionWalker(region);
  return walker.census(expectedLive);
}

class RegionWalker {
  /** Per slot: 0 if no list reached it yet, else 1 + the index of the list that did (in `lists`). */
  private readonly seenBy: Int32Array;
  private readonly lists: string[] = [];
  readonly violations: string[] = [];

  constructor(private readonly region: SharedRegion) {
    this.seenBy = new Int32Array(region.stackCapacity);
  }

  census(expectedLive?: number): RegionCensus {
    const r = this.region;
    const inGlobalPool = r.policy === "batched" ? this.walkGlobalBatches() : this.walkGlobalList();
    const legacyReleaseSkew = r.policy === "legacy" ? r.readU32(Header.GLOBAL_POOL_SIZE) - inGlobalPool : 0;
    const inLocalPools: number[] = [];
    const legacySizeSkew: number[] = [];
    for (let t = 0; t < r.threadCapacity; t++) {
      const { count, skew } = this.walkLocalPool(t);
      inLocalPools.push(count);
      legacySizeSkew.push(skew);
    }
    const freeSlots = this.walkFreeSlots();
    const stranded = this.walkList(r.i32[Header.STRANDED_HEAD]!, SlotState.STRANDED, -1, "the stranded mappings");
    this.expect(stranded === r.readU32(Header.STRANDED_MAPPINGS), `${stranded} stranded mappings listed but ${r.readU32(Header.STRANDED_MAPPINGS)} counted`);
    const { live, leaked } = this.countUnlisted();
    const totals = r.totals();
    const pooled = inGlobalPool + inLocalPools.reduce((a, b) => a + b, 0);
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
      inGlobalPool,
      inLocalPools,
      live,
      leaked,
      freeSlots,
      created: totals.created,
      freed: totals.freed,
      vmas: { current, expected },
      legacySizeSkew,
      legacyReleaseSkew,
      violations: this.violations,
    };
  }

  private walkGlobalList(): number {
    const r = this.region;
    const n = this.walkList(r.i32[Header.GLOBAL_POOL_HEAD]!, SlotState.GLOBAL_POOL, -1, "the release pool");
    if (r.policy !== "legacy") this.expect(n === 0 && r.readU32(Header.GLOBAL_POOL_SIZE) === 0, `policy ${r.policy} has ${n} stacks in a global list`);
    return n;
  }

  private walkGlobalBatches(): number {
    const r = this.region;
    let total = 0;
    let batches = 0;
    for (let batch = r.i32[Header.GLOBAL_POOL_HEAD]!; batch !== NO_SLOT; batches++) {
      if (batches > r.stackCapacity) return this.fail("the global batch list has a cycle"), total;
      const n = this.walkList(batch, SlotState.GLOBAL_POOL, -1, `global batch ${batches}`);
      const recorded = r.i32[r.slotBase(batch) + Slot.BATCH_SIZE]!;
      this.expect(n === recorded, `global batch ${batches} holds ${n} stacks but its head says ${recorded}`);
      total += n;
      batch = r.i32[r.slotBase(batch) + Slot.BATCH_NEXT]!;
    }
    this.expect(total === r.readU32(Header.GLOBAL_POOL_SIZE), `global pool holds ${total} stacks but global_pool_size says ${r.readU32(Header.GLOBAL_POOL_SIZE)}`);
    return total;
  }

  private walkLocalPool(t: number): { count: number; skew: number } {
    const r = this.region;
    const base = r.threadBase(t);
    const first = this.walkList(r.i32[base + Thread.LOCAL_HEAD_0]!, SlotState.LOCAL_POOL, t, `T${t}'s first local list`);
    const second = this.walkList(r.i32[base + Thread.LOCAL_HEAD_1]!, SlotState.LOCAL_POOL, t, `T${t}'s second local batch`);
    const size0 = r.i32[base + Thread.LOCAL_SIZE_0]! | 0;
    const size1 = r.i32[base + Thread.LOCAL_SIZE_1]! | 0;
    if (r.policy === "legacy") return { count: first, skew: size0 - first };
    this.expect(first === size0 && second === size1, `T${t}'s local batches hold ${first} + ${second} stacks but their sizes say ${size0} + ${size1}`);
    if (r.policy === "batched") {
      this.expect(first + second <= 256, `T${t} holds ${first + second} stacks locally, more than two batches of 128`);
      this.expect(second === 0 || first > 0, `T${t} has a second local batch without a first`);
    }
    return { count: first + second, skew: 0 };
  }

  private walkFreeSlots(): number {
    const r = this.region;
    const head = Number(BigInt.asUintN(32, Atomics.load(r.i64, Totals.FREE_SLOT_HEAD))) - 1;
    return this.walkList(head, SlotState.FREE, -1, "the free-slot list");
  }

  /** Slots on no list must be live or leaked. */
  private countUnlisted(): { live: number; leaked: number } {
    const r = this.region;
    let live = 0;
    let leaked = 0;
    for (let s = 0; s < r.stackCapacity; s++) {
      if (this.seenBy[s] !== 0) continue;
      const state = r.i32[r.slotBase(s) + Slot.STATE];
      if (state === SlotState.LIVE) live++;
      else if (state === SlotState.LEAKED) leaked++;
      else this.fail(`slot ${s} is on no list but its state is ${stateName(state!)}`);
    }
    return { live, leaked };
  }

  private walkList(head: number, state: number, owner: number, where: string): number {
    const r = this.region;
    let n = 0;
    for (let s = head; s !== NO_SLOT; n++) {
      if (s < 0 || s >= r.stackCapacity) return this.fail(`${where} links to slot ${s}, outside the table`), n;
      const previous = this.seenBy[s]! > 0 ? this.lists[this.seenBy[s]! - 1] : undefined;
      if (previous !== undefined) return this.fail(`slot ${s} is in ${where} and also in ${previous}`), n;
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

  private expect(ok: boolean, message: string): void {
    if (!ok) this.fail(message);
  }

  private fail(message: string): void {
    this.violations.push(message);
  }
}

function stateName(state: number): string {
  const entry = Object.entries(SlotState).find(([, v]) => v === state);
  return entry ? entry[0] : `unknown (${state})`;
}
