import { CoropoolError, GUARD_PAGE_FAILED, STACK_ALLOC_FAILED, VmaExhaustedError } from "../errors.js";
import * as layout from "../shared/layout.js";
import { AbortKind, Header, NO_OWNER, NO_SLOT, SlotState, Thread, Totals } from "../shared/layout.js";
import type { SharedRegion } from "../shared/region.js";
import * as slotList from "../shared/slot-list.js";
import { VmaCounter } from "../vma/vma-counter.js";
import { simulatedBackend, type StackBackend } from "./backend.js";
import { popFreeSlot, pushFreeSlot } from "./free-slots.js";

// markLive runs on every pooled get: module constants there rather than
// imported bindings (see pools/batched.ts for why, and what that bought).
const { LIVE } = layout.SlotState;
const { labelSlot, forEachSlot, pushSlotAtomic, takeList } = slotList;

/**
 * Makes and frees stacks: the qemu_coroutine_new / qemu_coroutine_delete
 * half of the runtime, below the pools. Every thread may call it.
 */
export class StackAllocator {
  readonly vmas: VmaCounter;
  private readonly region: SharedRegion;
  private readonly backend: StackBackend;
  /** The region's i32 view and first slot index, for the slot-list calls (markLive among them). */
  private readonly i32: Int32Array;
  private readonly slotsBase: number;

  constructor(region: SharedRegion, backend: StackBackend = simulatedBackend) {
    this.region = region;
    this.i32 = region.i32;
    this.slotsBase = region.slotsBase;
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
      throw this.abort(AbortKind.STACK_ALLOC, thread, err as VmaExhaustedError);
    }
    const slot = this.takeFreeSlot();
    try {
      this.backend.map(slot);
    } catch (err) {
      // The real mmap failed (the kernel's own limit came first): to QEMU
      // that is the same failure, with nothing mapped.
      this.vmas.releaseMapping();
      pushFreeSlot(this.region, slot);
      throw this.abort(AbortKind.STACK_ALLOC, thread, new VmaExhaustedError(STACK_ALLOC_FAILED, err as Error));
    }
    try {
      this.setUpGuardPage(slot);
    } catch (err) {
      // QEMU aborts here with the mapping still in place (1 VMA).
      this.strand(slot);
      throw this.abort(AbortKind.GUARD_PAGE, thread, err as VmaExhaustedError);
    }
    this.markLive(slot, thread);
    Atomics.add(this.region.i64, Totals.STACKS_CREATED, 1n);
    this.region.i32[this.region.threadBase(thread) + Thread.STAT_STACKS_CREATED]!++;
    return slot;
  }

  /** Counter first, then the real mprotect; a refused mprotect leaves no split to count. */
  private setUpGuardPage(slot: number): void {
    this.vmas.chargeGuardPage();
    try {
      this.backend.protectGuard(slot);
    } catch (err) {
      this.vmas.releaseMapping();
      throw new VmaExhaustedError(GUARD_PAGE_FAILED, err as Error);
    }
  }

  private takeFreeSlot(): number {
    const slot = popFreeSlot(this.region);
    if (slot !== NO_SLOT) return slot;
    this.vmas.releaseMapping();
    throw new CoropoolError(
      "ERR_STACK_TABLE_FULL",
      `the stack table is full (${this.region.stackCapacity} slots) before the VMA limit; raise it with --stack-slots (the stackSlots option)`,
    );
  }

  /**
   * A mapping whose guard page failed: it keeps its 1 VMA, on the stranded
   * list (push-only until shutdown, so a plain CAS push has no ABA problem).
   */
  private strand(slot: number): void {
    const { i32, slotsBase } = this;
    labelSlot(i32, slotsBase, slot, SlotState.STRANDED, NO_OWNER);
    pushSlotAtomic(i32, slotsBase, Header.STRANDED_HEAD, slot);
    Atomics.add(i32, Header.STRANDED_MAPPINGS, 1);
  }

  /**
   * At shutdown after an abort: unmap the mappings whose guard page failed, so
   * the counter can come back to its baseline. Returns how many there were.
   */
  releaseStrandedMappings(): number {
    const { i32, slotsBase } = this;
    return forEachSlot(i32, slotsBase, takeList(i32, Header.STRANDED_HEAD), (slot) => {
      this.backend.unmap(slot);
      this.vmas.releaseMapping();
      labelSlot(i32, slotsBase, slot, SlotState.FREE, NO_OWNER);
      pushFreeSlot(this.region, slot);
      Atomics.sub(i32, Header.STRANDED_MAPPINGS, 1);
    });
  }

  /** Unmaps the stack in `slot` on behalf of `thread` (NO_OWNER: the controlling thread). */
  free(slot: number, thread: number): void {
    this.backend.unmap(slot);
    labelSlot(this.i32, this.slotsBase, slot, SlotState.FREE, NO_OWNER);
    pushFreeSlot(this.region, slot);
    this.vmas.releaseStack();
    Atomics.add(this.region.i64, Totals.STACKS_FREED, 1n);
    if (thread >= 0) this.i32[this.region.threadBase(thread) + Thread.STAT_STACKS_FREED]!++;
  }

  /** Frees every stack on an intrusive list starting at `head`; returns how many. */
  freeList(head: number, thread: number): number {
    return forEachSlot(this.i32, this.slotsBase, head, (slot) => this.free(slot, thread));
  }

  /** Records the failure (the first one wins: it is what QEMU would have died of) and returns it to throw. */
  private abort(kind: number, thread: number, err: VmaExhaustedError): VmaExhaustedError {
    if (Atomics.compareExchange(this.region.i32, Header.ABORTED, AbortKind.NONE, kind) === AbortKind.NONE) {
      Atomics.store(this.region.i32, Header.ABORTED_THREAD, thread + 1);
    }
    return err;
  }

  /**
   * Plain stores: only the thread that holds the stack writes its slot, and
   * readers on other threads look at quiescent points, after a barrier.
   */
  markLive(slot: number, thread: number): void {
    labelSlot(this.i32, this.slotsBase, slot, LIVE, thread);
  }
}
