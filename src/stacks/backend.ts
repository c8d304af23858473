/**
 * Where a stack's memory comes from. The VMA counter does the accounting for
 * every backend; a backend only does (or pretends to do) the system calls.
 */
export interface StackBackend {
  readonly name: string;
  /** The mmap of a new stack plus its guard page (QEMU: qemu_alloc_stack). */
  map(slot: number): void;
  /** The mprotect(PROT_NONE) of the guard page, which splits the mapping in two. */
  protectGuard(slot: number): void;
  /** The munmap of a stack that is freed. */
  unmap(slot: number): void;
}

/** Accounting only: any limit, any platform, no real memory. */
export const simulatedBackend: StackBackend = {
  name: "simulated",
  map() {},
  protectGuard() {},
  unmap() {},
};
