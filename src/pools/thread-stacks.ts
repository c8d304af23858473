import type { PoolPolicy } from "./policy.js";
import { NO_SLOT, Thread } from "../shared/layout.js";
import type { SharedRegion } from "../shared/region.js";
import type { StackAllocator } from "../stacks/stack-allocator.js";

/**
 * One thread's way to get and return coroutine stacks: the pool first, a new
 * mapping when the pool has none (qemu_coroutine_create), and back to the
 * pool on termination (coroutine_delete). It keeps the thread's live count.
 */
export class ThreadStacks {
  readonly thread: number;
  private readonly policy: PoolPolicy;
  private readonly stacks: StackAllocator;
  private readonly i32: Int32Array;
  private readonly liveIndex: number;

  constructor(region: SharedRegion, policy: PoolPolicy, stacks: StackAllocator, thread: number) {
    this.thread = thread;
    this.policy = policy;
    this.stacks = stacks;
    this.i32 = region.i32;
    this.liveIndex = region.threadBase(thread) + Thread.LIVE;
  }

  /** A stack for a new coroutine; throws VmaExhaustedError like QEMU's abort. */
  acquireStack(): number {
    let slot = this.policy.get(this.thread);
    if (slot === NO_SLOT) slot = this.stacks.mapNew(this.thread);
    this.i32[this.liveIndex]!++;
    return slot;
  }

  /** The coroutine owning `slot` terminated on this thread. */
  releaseStack(slot: number): void {
    this.i32[this.liveIndex]!--;
    this.policy.put(this.thread, slot);
  }

  /** This thread exits: QEMU's thread-exit notifier. */
  exit(): void {
    this.policy.exitThread(this.thread);
  }
}
