import { createRequire } from "node:module";
import { CoropoolError } from "../errors.js";
import type { StackBackend } from "./backend.js";

/** QEMU's default coroutine stack: 1 MiB (COROUTINE_STACK_SIZE), plus one guard page below it. */
export const DEFAULT_STACK_BYTES = 1 << 20;

const PROT_NONE = 0;
const PROT_READ_WRITE = 0x1 | 0x2;
const MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20;
const SC_PAGESIZE = 30;
const ENOMEM = 12;

/** What a worker needs to share one kernel backend: where every slot's mapping is. */
export interface KernelBackendState {
  /** One Float64 per stack slot: the mapping's address (0 when unmapped). Exact below 2^53. */
  addresses: SharedArrayBuffer;
  stackBytes: number;
}

/** A real system call failed; the allocator turns it into QEMU's message. */
export class KernelCallError extends CoropoolError {
  readonly errno: number;

  constructor(call: string, errno: number) {
    super("ERR_KERNEL_CALL", `${call} failed with errno ${errno}${errno === ENOMEM ? " (ENOMEM)" : ""}`);
    this.errno = errno;
  }
}

interface Libc {
  mmap: (addr: number, len: number, prot: number, flags: number, fd: number, off: number) => number | bigint;
  mprotect: (addr: number, len: number, prot: number) => number;
  munmap: (addr: number, len: number) => number;
  errno: () => number;
  pageBytes: number;
}

let libc: Libc | null = null;
let unavailable: string | null | undefined;

/**
 * Why the kernel backend cannot run here, or null when it can: it needs Linux
 * and the optional `koffi` package to call libc's mmap, mprotect and munmap.
 */
export function kernelBackendUnavailableReason(): string | null {
  if (unavailable !== undefined) return unavailable;
  if (process.platform !== "linux") return (unavailable = `the kernel backend needs Linux (this is ${process.platform}); use --backend simulated`);
  try {
    libc = loadLibc();
    unavailable = null;
  } catch (err) {
    const why = err instanceof Error ? err.message.split("\n")[0] : String(err);
    unavailable = `the kernel backend needs the optional 'koffi' package to call mmap (${why}); run 'npm install koffi' or use --backend simulated`;
  }
  return unavailable;
}

function loadLibc(): Libc {
  // koffi is an optional dependency: loaded on demand, never at import time.
  const koffi = createRequire(import.meta.url)("koffi") as {
    load(name: string): { func(signature: string): (...args: unknown[]) => unknown };
    errno(): number;
  };
  const lib = koffi.load("libc.so.6");
  const sysconf = lib.func("long sysconf(int name)") as (name: number) => number;
  return {
    mmap: lib.func("uintptr_t mmap(uintptr_t addr, size_t len, int prot, int flags, int fd, intptr_t off)") as Libc["mmap"],
    mprotect: lib.func("int mprotect(uintptr_t addr, size_t len, int prot)") as Libc["mprotect"],
    munmap: lib.func("int munmap(uintptr_t addr, size_t len)") as Libc["munmap"],
    errno: () => koffi.errno(),
    pageBytes: Number(sysconf(SC_PAGESIZE)),
  };
}

function requireLibc(): Libc {
  const reason = kernelBackendUnavailableReason();
  if (reason !== null) throw new CoropoolError("ERR_KERNEL_BACKEND", reason);
  return libc!;
}

/**
 * Real stacks, made the way QEMU's qemu_alloc_stack makes them: one
 * mmap(PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS) of the stack plus a
 * page (1 VMA), then mprotect(PROT_NONE) of its lowest page, the guard (which
 * splits the mapping: 2 VMAs), and munmap when freed. The memory is never
 * touched, so a stack costs address space and VMAs, not RAM.
 */
export class KernelStackBackend implements StackBackend {
  readonly name = "kernel";
  readonly state: KernelBackendState;
  readonly pageBytes: number;
  private readonly libc: Libc;
  private readonly addresses: Float64Array;

  private constructor(state: KernelBackendState) {
    this.libc = requireLibc();
    this.state = state;
    this.pageBytes = this.libc.pageBytes;
    this.addresses = new Float64Array(state.addresses);
  }

  /** A backend for a region of `stackCapacity` slots (main thread). */
  static create(stackCapacity: number, stackBytes = DEFAULT_STACK_BYTES): KernelStackBackend {
    requireLibc();
    if (!Number.isInteger(stackBytes) || stackBytes <= 0 || stackBytes % libc!.pageBytes !== 0) {
      throw new CoropoolError("ERR_KERNEL_BACKEND", `stack size ${stackBytes} is not a positive multiple of the page size ${libc!.pageBytes}`);
    }
    return new KernelStackBackend({ addresses: new SharedArrayBuffer(8 * Math.max(1, stackCapacity)), stackBytes });
  }

  /** The same backend, seen from a worker thread. */
  static attach(state: KernelBackendState): KernelStackBackend {
    return new KernelStackBackend(state);
  }

  /** Bytes of one mapping: the stack and its guard page. */
  get mappingBytes(): number {
    return this.state.stackBytes + this.pageBytes;
  }

  map(slot: number): void {
    const addr = this.libc.mmap(0, this.mappingBytes, PROT_READ_WRITE, MAP_PRIVATE_ANONYMOUS, -1, 0);
    // MAP_FAILED is (void *)-1, which comes back as a 64-bit all-ones bigint.
    if (typeof addr === "bigint" || addr <= 0) throw new KernelCallError("mmap", this.libc.errno());
    this.addresses[slot] = addr;
  }

  protectGuard(slot: number): void {
    if (this.libc.mprotect(this.addressOf(slot), this.pageBytes, PROT_NONE) !== 0) {
      throw new KernelCallError("mprotect", this.libc.errno());
    }
  }

  unmap(slot: number): void {
    if (this.libc.munmap(this.addressOf(slot), this.mappingBytes) !== 0) {
      throw new KernelCallError("munmap", this.libc.errno());
    }
    this.addresses[slot] = 0;
  }

  /** The mapping's address, or 0 if the slot holds none. */
  addressOf(slot: number): number {
    return this.addresses[slot]!;
  }

  /** [start, end) of every live mapping, for counting their VMAs in /proc/self/maps. */
  mappedRanges(): [number, number][] {
    const ranges: [number, number][] = [];
    for (let slot = 0; slot < this.addresses.length; slot++) {
      const a = this.addresses[slot]!;
      if (a !== 0) ranges.push([a, a + this.mappingBytes]);
    }
    return ranges;
  }
}
