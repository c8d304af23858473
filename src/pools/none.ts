import { NO_SLOT, Thread } from "../shared/layout.js";
import type { SharedRegion } from "../shared/region.js";
import type { StackAllocator } from "../stacks/stack-allocator.js";
import type { PoolPolicy } from "./policy.js";

/** No pool: every create maps a stack and every terminate unmaps it. The baseline. */
export class NonePolicy implements PoolPolicy {
  readonly name = "none" as const;
  private readonly region: SharedRegion;
  private readonly stacks: StackAllocator;

  constructor(region: SharedRegion, stacks: StackAllocator) {
    this.region = region;
    this.stacks = stacks;
  }

  get(thread: number): number {
    this.region.i32[this.region.threadBase(thread) + Thread.STAT_GETS]!++;
    return NO_SLOT;
  }

  put(thread: number, slot: number): void {
    this.region.i32[this.region.threadBase(thread) + Thread.STAT_PUTS]!++;
    this.stacks.free(slot, thread);
  }

  exitThread(): void {}
  incPoolSize(): void {}
  decPoolSize(): void {}

  globalPoolSize(): number {
    return 0;
  }

  localPoolSize(): number {
    return 0;
  }

  drainGlobalPool(): number {
    return 0;
  }
}
