import { Header, NO_OWNER, NO_SLOT, SlotState, Thread } from "../shared/layout.js";
import type { SharedRegion } from "../shared/region.js";
import type { StackAllocator } from "../stacks/stack-allocator.js";
import { unusedMutexStats, type MutexStats } from "../sync/futex-mutex.js";
import type { ListWalker, PolicyDefinition, PoolCensus, PoolPolicy } from "./policy.js";

/** No pool: every create maps a stack and every terminate unmaps it. The baseline. */
export class NonePolicy implements PoolPolicy {
  readonly name = "none" as const;
  /** Never called: there is no lock. */
  onCriticalSection: ((thread: number) => void) | null = null;
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

  reclaimDeadThread(): number {
    return 0;
  }

  /** Nothing is pooled, so every pool word of the region must say so. */
  census(walker: ListWalker): PoolCensus {
    const { i32, threadCapacity } = this.region;
    const global = walker.walk(i32[Header.GLOBAL_POOL_HEAD]!, SlotState.GLOBAL_POOL, NO_OWNER, "a global list");
    walker.expect(global === 0 && this.region.readU32(Header.GLOBAL_POOL_SIZE) === 0, `policy none has ${global} stacks in a global list`);
    const local: number[] = [];
    for (let thread = 0; thread < threadCapacity; thread++) {
      const t = this.region.threadBase(thread);
      const n = walker.walk(i32[t + Thread.LOCAL_HEAD_0]!, SlotState.LOCAL_POOL, thread, `T${thread}'s local list`);
      walker.expect(n === 0 && i32[t + Thread.LOCAL_SIZE_0] === 0, `policy none has ${n} stacks in T${thread}'s local list`);
      local.push(n);
    }
    return { global, local, globalSizeSkew: 0, localSizeSkew: local.map(() => 0) };
  }

  /** Nothing is pooled, so nothing is given back over time. */
  tick(): void {}

  lockStats(): MutexStats {
    return unusedMutexStats();
  }
}

/** No pool at all, in the policies' registry. */
export const NONE: PolicyDefinition<"none"> = {
  name: "none",
  initialPoolMaxSize: 0,
  usesHardCap: false,
  globalPoolCap: null,
  usesGlobalLock: false,
  open: (region, stacks) => new NonePolicy(region, stacks),
};
