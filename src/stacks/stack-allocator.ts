import { CoropoolError } from "../errors.js";
import { AbortKind, Header, NO_SLOT, Slot, SlotState, Thread, Totals } from "../shared/layout.js";
import type { SharedRegion } from "../shared/region.js";
import { VmaCounter } from "../vma/vma-counter.js";
import { simulatedBackend, type StackBackend } from "./backend.js";
import { popFreeSlot, pushFreeSlot } from "./free-slots.js";

/**
 * Makes and frees stacks: the qemu_coroutine_new / qemu_coroutine_delete
 * half of the runtime, below the pools. Every thread may call it.
 */
export class StackAllocator {
  readonly vmas: VmaCounter;
  private readonly region: SharedRegion;
  private readonly backend: StackBackend;

  constructor(region: SharedRegion, backend: StackBackend = simulatedBackend) {
    this.region = region;
    this.backend = backend;
    this.vmas = new VmaCounter(region);
  }

  /**
   * Maps a new stack for `thread` and returns its slot, marked live. Throws
   * VmaExhaustedError with QEMU's message when a step would pass the limit.
   */
  mapNew(thread: number): number {
    try {
      this.vmas.chargeMapping();
    } catch (err) {
      this.recordAbort(AbortKind.STACK_ALLOC);
      throw err;
    }
    const slot = popFreeSlot(this.region);
    if (slot === NO_SLOT) {
      this.vmas.releaseMapping();
      throw new CoropoolError(
        "ERR_STACK_TABLE_FULL",
        `the stack table is full (${this.region.stackCapacity} slots) before the VMA limit; create the region with a larger stack capacity`,
      );
    }
    this.backend.map(slot);
    try {
      this.vmas.chargeGuardPage();
    } catch (err) {
      // QEMU aborts here with the mapping still in place; the slot holds no
      // usable stack, so it goes back to the free list.
      pushFreeSlot(this.region, slot);
      Atomics.add(this.region.i32, Header.STRANDED_MAPPINGS, 1);
      this.recordAbort(AbortKind.GUARD_PAGE);
      throw err;
    }
    this.backend.protectGuard(slot);
    this.markLive(slot, thread);
    Atomics.add(this.region.i64, Totals.STACKS_CREATED, 1n);
    this.region.i32[this.region.threadBase(thread) + Thread.STAT_STACKS_CREATED]!++;
    return slot;
  }

  /**
   * At shutdown after an abort: unmap the mappings whose guard page failed, so
   * the counter can come back to its baseline. Returns how many there were.
   */
  releaseStrandedMappings(): number {
    const n = Atomics.exchange(this.region.i32, Header.STRANDED_MAPPINGS, 0);
    for (let i = 0; i < n; i++) this.vmas.releaseMapping();
    return n;
  }

  /** Unmaps the stack in `slot` on behalf of `thread`. */
  free(slot: number, thread: number): void {
    const base = this.region.slotBase(slot);
    this.backend.unmap(slot);
    Atomics.store(this.region.i32, base + Slot.STATE, SlotState.FREE);
    Atomics.store(this.region.i32, base + Slot.OWNER, -1);
    pushFreeSlot(this.region, slot);
    this.vmas.releaseStack();
    Atomics.add(this.region.i64, Totals.STACKS_FREED, 1n);
    if (thread >= 0) this.region.i32[this.region.threadBase(thread) + Thread.STAT_STACKS_FREED]!++;
  }

  /** Frees every stack on an intrusive list starting at `head`. */
  freeList(head: number, thread: number): number {
    let n = 0;
    for (let slot = head; slot !== NO_SLOT; n++) {
      const next = this.region.i32[this.region.slotBase(slot) + Slot.NEXT]!;
      this.free(slot, thread);
      slot = next;
    }
    return n;
  }

  /** The first failure wins: it is the one QEMU would have died of. */
  private recordAbort(kind: number): void {
    Atomics.compareExchange(this.region.i32, Header.ABORTED, AbortKind.NONE, kind);
  }

  /**
   * Plain stores: only the thread that holds the stack writes its slot, and
   * readers on other threads look at quiescent points, after a barrier.
   */
  markLive(slot: number, thread: number): void {
    const base = this.region.slotBase(slot);
    this.region.i32[base + Slot.STATE] = SlotState.LIVE;
    this.region.i32[base + Slot.OWNER] = thread;
  }
}
