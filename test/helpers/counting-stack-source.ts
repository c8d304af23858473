import type { StackSource } from "../../src/coroutine/index.js";

/**
 * Test fixture for the StackSource interface: an array free list that counts
 * every acquire and release and refuses a slot released twice or never handed out.
 */
export class CountingStackSource implements StackSource {
  acquires = 0;
  releases = 0;
  /** Slots ever handed out fresh (the free list was empty). */
  mapped = 0;
  /** Every release, in order. */
  readonly released: number[] = [];
  readonly inUse = new Set<number>();
  private readonly free: number[] = [];
  /** When set, the next acquireStack() throws it (e.g. a simulated VMA exhaustion). */
  failNextAcquire: Error | null = null;
  /** When set, every acquire after this many successful ones throws the error. */
  failAfter: { acquires: number; error: Error } | null = null;

  acquireStack(): number {
    if (this.failNextAcquire !== null) {
      const error = this.failNextAcquire;
      this.failNextAcquire = null;
      throw error;
    }
    if (this.failAfter !== null && this.acquires >= this.failAfter.acquires) throw this.failAfter.error;
    this.acquires++;
    const slot = this.free.length > 0 ? this.free.pop()! : this.mapped++;
    this.inUse.add(slot);
    return slot;
  }

  releaseStack(slot: number): void {
    if (!this.inUse.delete(slot)) throw new Error(`slot ${slot} released but not in use (double release?)`);
    this.releases++;
    this.released.push(slot);
    this.free.push(slot);
  }
}
