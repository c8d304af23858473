import {
  BARRIER_I32_BASE,
  BARRIER_I32_WORDS,
  Header,
  MUTEX_I32_BASE,
  MUTEX_I32_WORDS,
  MUTEX_I64_BASE,
  MUTEX_I64_WORDS,
  I64_WORDS,
  LAYOUT_VERSION,
  NO_OWNER,
  NO_SLOT,
  REGION_MAGIC,
  SLOT_WORDS,
  Slot,
  SlotState,
  Thread,
  Totals,
  Vma,
  regionByteLength,
  stackTableBase,
  threadBase,
} from "./layout.js";
import { CoropoolError } from "../errors.js";
import { Barrier, BARRIER_INT32_WORDS } from "../sync/barrier.js";
import { FutexMutex, MUTEX_INT32_WORDS, MUTEX_INT64_WORDS } from "../sync/futex-mutex.js";
import { packTaggedHead, slotAt } from "./slot-list.js";

// The layout reserves room for the sync primitives' words; fail at load time if they outgrow it.
if (MUTEX_INT32_WORDS > MUTEX_I32_WORDS || MUTEX_INT64_WORDS > MUTEX_I64_WORDS || BARRIER_INT32_WORDS > BARRIER_I32_WORDS) {
  throw new Error("coropool: the shared layout reserves too few words for the mutex or the barrier");
}

/** What the creator of a region decides; everything else is derived. */
export interface RegionOptions {
  /**
   * Which pool policy runs on the region, as the number the policies'
   * registry (pools/registry.ts) gives it: the region stores it, never interprets it.
   */
  policyId: number;
  /** Worker threads that will attach (and the per-thread slots reserved). */
  threads: number;
  /** Stack-table slots: the most stacks that can exist at once. */
  stackCapacity: number;
  /** The VMA limit (max_map_count) the counter enforces. */
  vmaLimit: number;
  /** VMAs the rest of the process uses; the counter starts here. */
  baselineVmas: number;
  /** legacy pool_max_size / batched global_pool_max_size at start. */
  initialPoolMaxSize: number;
  /** batched global_pool_hard_max_size (unsigned 32-bit). */
  hardMaxSize: number;
}

/**
 * A view onto the shared region. The main thread creates it; workers attach
 * to the same SharedArrayBuffer and get a view that reads the same words.
 */
export class SharedRegion {
  readonly buffer: SharedArrayBuffer;
  readonly i32: Int32Array;
  readonly i64: BigInt64Array;
  readonly threadCapacity: number;
  readonly stackCapacity: number;
  /** The pool policy's number in the policies' registry. */
  readonly policyId: number;
  /** Int32 index of the first stack-table slot. */
  readonly slotsBase: number;

  private constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.i64 = new BigInt64Array(buffer, 0, I64_WORDS);
    const i32Offset = I64_WORDS * 8;
    this.i32 = new Int32Array(buffer, i32Offset, (buffer.byteLength - i32Offset) / 4);
    if (this.i32[Header.MAGIC] !== REGION_MAGIC || this.i32[Header.LAYOUT_VERSION] !== LAYOUT_VERSION) {
      throw new CoropoolError("ERR_REGION_LAYOUT", "the buffer is not a coropool shared region of this version");
    }
    this.threadCapacity = this.i32[Header.THREAD_CAPACITY]!;
    this.stackCapacity = this.i32[Header.STACK_CAPACITY]!;
    this.policyId = this.i32[Header.POLICY]!;
    this.slotsBase = stackTableBase(this.threadCapacity);
  }

  /** Allocates and initialises a region. */
  static create(options: RegionOptions): SharedRegion {
    const { total, i64Bytes } = regionByteLength(options.threads, options.stackCapacity);
    const buffer = new SharedArrayBuffer(total);
    const i32 = new Int32Array(buffer, i64Bytes);
    const i64 = new BigInt64Array(buffer, 0, I64_WORDS);
    i32[Header.MAGIC] = REGION_MAGIC;
    i32[Header.LAYOUT_VERSION] = LAYOUT_VERSION;
    i32[Header.POLICY] = options.policyId;
    i32[Header.THREAD_CAPACITY] = options.threads;
    i32[Header.STACK_CAPACITY] = options.stackCapacity;
    i32[Header.POOL_MAX_SIZE] = options.initialPoolMaxSize | 0;
    i32[Header.HARD_MAX_SIZE] = options.hardMaxSize | 0;
    i32[Header.GLOBAL_POOL_HEAD] = NO_SLOT;
    i32[Header.STRANDED_HEAD] = NO_SLOT;
    i32[Header.DONATED_HEAD] = NO_SLOT;
    i32[Vma.CURRENT] = options.baselineVmas;
    i32[Vma.PEAK] = options.baselineVmas;
    i32[Vma.LIMIT] = options.vmaLimit;
    i32[Vma.BASELINE] = options.baselineVmas;
    FutexMutex.initialize(i32, MUTEX_I32_BASE, i64, MUTEX_I64_BASE);
    Barrier.initialize(i32, BARRIER_I32_BASE, Math.max(1, options.threads));
    for (let t = 0; t < options.threads; t++) {
      i32[threadBase(t) + Thread.LOCAL_HEAD_0] = NO_SLOT;
      i32[threadBase(t) + Thread.LOCAL_HEAD_1] = NO_SLOT;
      i32[threadBase(t) + Thread.LAST_HANDED_HEAD] = NO_SLOT;
    }
    // Every slot starts on the free-slot list, lowest index first.
    const slots = stackTableBase(options.threads);
    for (let s = 0; s < options.stackCapacity; s++) {
      const base = slots + s * SLOT_WORDS;
      i32[base + Slot.NEXT] = s + 1 < options.stackCapacity ? s + 1 : NO_SLOT;
      i32[base + Slot.STATE] = SlotState.FREE;
      i32[base + Slot.OWNER] = NO_OWNER;
      i32[base + Slot.BATCH_NEXT] = NO_SLOT;
    }
    i64[Totals.FREE_SLOT_HEAD] = packTaggedHead(0n, options.stackCapacity > 0 ? 0 : NO_SLOT);
    return new SharedRegion(buffer);
  }

  /** A view onto a region another thread created. */
  static attach(buffer: SharedArrayBuffer): SharedRegion {
    return new SharedRegion(buffer);
  }

  /** Int32 index of slot `s`'s first word. */
  slotBase(s: number): number {
    return slotAt(this.slotsBase, s);
  }

  threadBase(t: number): number {
    return threadBase(t);
  }

  /** An unsigned 32-bit header or thread word. */
  readU32(index: number): number {
    return Atomics.load(this.i32, index) >>> 0;
  }

  /** Total stacks mapped, unmapped and leaked since the region was made. */
  totals(): { created: number; freed: number; leaked: number } {
    return {
      created: Number(Atomics.load(this.i64, Totals.STACKS_CREATED)),
      freed: Number(Atomics.load(this.i64, Totals.STACKS_FREED)),
      leaked: Number(Atomics.load(this.i64, Totals.STACKS_LEAKED)),
    };
  }

  /** Unsigned value of thread `t`'s word `field`. */
  threadWord(t: number, field: number): number {
    return Atomics.load(this.i32, threadBase(t) + field) >>> 0;
  }
}
