import { GUARD_PAGE_FAILED, STACK_ALLOC_FAILED, VmaExhaustedError } from "../errors.js";
import { Vma } from "../shared/layout.js";
import type { SharedRegion } from "../shared/region.js";

/** Each stack is one mapping plus one guard page split off it. */
export const VMAS_PER_STACK = 2;

/**
 * The process's VMA count as Linux would keep it, shared by every thread.
 *
 * A stack is mapped in two steps, exactly as QEMU does it: mmap (1 VMA) and
 * then mprotect of the guard page (which splits the mapping: 1 more VMA). Each
 * step is refused, with QEMU's own message, when it would take the count past
 * the limit; a refused guard page leaves the first VMA counted, as a failed
 * mprotect leaves the mapping in place.
 */
export class VmaCounter {
  private readonly i32: Int32Array;

  constructor(region: SharedRegion) {
    this.i32 = region.i32;
  }

  get current(): number {
    return Atomics.load(this.i32, Vma.CURRENT);
  }
  get peak(): number {
    return Atomics.load(this.i32, Vma.PEAK);
  }
  get limit(): number {
    return Atomics.load(this.i32, Vma.LIMIT);
  }
  get baseline(): number {
    return Atomics.load(this.i32, Vma.BASELINE);
  }

  /** Step 1 of mapping a stack: the mmap. */
  chargeMapping(): void {
    if (!this.tryAdd(1)) throw new VmaExhaustedError(STACK_ALLOC_FAILED);
  }

  /** Step 2 of mapping a stack: the guard page's mprotect. */
  chargeGuardPage(): void {
    if (!this.tryAdd(1)) throw new VmaExhaustedError(GUARD_PAGE_FAILED);
  }

  /** A stack was unmapped: both of its VMAs come back. */
  releaseStack(): void {
    Atomics.sub(this.i32, Vma.CURRENT, VMAS_PER_STACK);
  }

  /** Undo a lone step-1 charge (a backend whose mapping failed for another reason). */
  releaseMapping(): void {
    Atomics.sub(this.i32, Vma.CURRENT, 1);
  }

  /**
   * Adds n unless that passes the limit. A CAS loop rather than add-then-check,
   * so that concurrent threads can never overshoot the limit even briefly.
   */
  private tryAdd(n: number): boolean {
    const limit = this.limit;
    for (;;) {
      const cur = Atomics.load(this.i32, Vma.CURRENT);
      const next = cur + n;
      if (next > limit) return false;
      if (Atomics.compareExchange(this.i32, Vma.CURRENT, cur, next) === cur) {
        this.raisePeak(next);
        return true;
      }
    }
  }

  /**
   * Every value the counter takes is offered to the peak by the thread that
   * produced it, so the peak is exact however the threads interleave.
   */
  private raisePeak(value: number): void {
    for (;;) {
      const peak = Atomics.load(this.i32, Vma.PEAK);
      if (value <= peak) return;
      if (Atomics.compareExchange(this.i32, Vma.PEAK, peak, value) === peak) return;
    }
  }
}
