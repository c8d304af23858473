/**
 * A hash table from 64-bit addresses, given as two 32-bit halves, to small
 * non-negative integers: QEMU coroutine addresses to coroutine ids, thread
 * ids or AioContext addresses to thread indexes.
 *
 * Why not a Map: an address is above 2^31, so V8 boxes it as a heap number
 * at every Map call, one allocation per log line; here keys live unboxed in
 * typed arrays. Open addressing with linear probing; a deletion shifts the
 * following entries back (no tombstones), so lookups stay short however many
 * addresses come and go.
 */
export class AddressTable {
  private hi: Int32Array;
  private lo: Int32Array;
  /** The value of each entry, EMPTY where there is none. */
  private values: Int32Array;
  private mask: number;
  size = 0;

  constructor(initialCapacity = 1024) {
    const capacity = 1 << Math.ceil(Math.log2(Math.max(16, initialCapacity)));
    this.hi = new Int32Array(capacity);
    this.lo = new Int32Array(capacity);
    this.values = new Int32Array(capacity).fill(EMPTY);
    this.mask = capacity - 1;
  }

  /** The value of (hi, lo), or -1. */
  get(hi: number, lo: number): number {
    const { values, mask } = this;
    for (let i = bucketOf(hi, lo, mask); ; i = (i + 1) & mask) {
      const v = values[i]!;
      if (v === EMPTY) return -1;
      if (this.lo[i] === lo && this.hi[i] === hi) return v;
    }
  }

  /** Sets (hi, lo) to `value` (≥ 0); the key must not be in the table. */
  add(hi: number, lo: number, value: number): void {
    if (2 * (this.size + 1) > this.values.length) this.grow();
    this.insert(hi, lo, value);
    this.size++;
  }

  /** Removes (hi, lo) and returns its value, or -1 when it is not there. */
  remove(hi: number, lo: number): number {
    const { values, mask } = this;
    let i = bucketOf(hi, lo, mask);
    for (; ; i = (i + 1) & mask) {
      if (values[i] === EMPTY) return -1;
      if (this.lo[i] === lo && this.hi[i] === hi) break;
    }
    const value = values[i]!;
    this.size--;
    // Backward shift: move up every later entry of the run that may not sit past the hole.
    for (let hole = i, j = (i + 1) & mask; ; j = (j + 1) & mask) {
      if (values[j] === EMPTY) {
        values[hole] = EMPTY;
        return value;
      }
      const home = bucketOf(this.hi[j]!, this.lo[j]!, mask);
      // The entry at j may fill the hole unless its home lies cyclically in (hole, j].
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        this.hi[hole] = this.hi[j]!;
        this.lo[hole] = this.lo[j]!;
        values[hole] = values[j]!;
        hole = j;
      }
    }
  }

  private insert(hi: number, lo: number, value: number): void {
    const mask = this.mask;
    let i = bucketOf(hi, lo, mask);
    while (this.values[i] !== EMPTY) i = (i + 1) & mask;
    this.hi[i] = hi;
    this.lo[i] = lo;
    this.values[i] = value;
  }

  private grow(): void {
    const { hi, lo, values } = this;
    const capacity = 2 * values.length;
    this.hi = new Int32Array(capacity);
    this.lo = new Int32Array(capacity);
    this.values = new Int32Array(capacity).fill(EMPTY);
    this.mask = capacity - 1;
    for (let i = 0; i < values.length; i++) if (values[i] !== EMPTY) this.insert(hi[i]!, lo[i]!, values[i]!);
  }
}

const EMPTY = -1;
/** Fibonacci hashing: allocations are 16-byte aligned, so the low bits alone would cluster. */
const GOLDEN = 0x9e3779b1 | 0;

function bucketOf(hi: number, lo: number, mask: number): number {
  const h = Math.imul(lo ^ Math.imul(hi, GOLDEN), GOLDEN);
  return (h ^ (h >>> 15)) & mask;
}
