import { Header } from "../shared/layout.js";
import type { SharedRegion } from "../shared/region.js";
import { countVmasWithin, readMaps } from "../vma/proc-maps.js";
import { VMAS_PER_STACK } from "../vma/vma-counter.js";
import type { KernelStackBackend } from "./kernel-backend.js";

/** A kernel-mode check of the VMA counter against /proc/self/maps at a quiescent point. */
export interface CrossCheck {
  point: string;
  /** VMAs /proc/self/maps shows inside the stacks' mappings. */
  counted: number;
  /** What the shared counter implies: 2 per stack, 1 per mapping whose guard page failed. */
  expected: number;
}

/**
 * Kernel mode, at a quiescent point (no thread mapping or unmapping): the
 * VMAs /proc/self/maps shows inside the stacks' mappings must be what the
 * shared counter says: 2 per existing stack, plus 1 per mapping whose guard
 * page failed. Only those VMAs are compared, because V8 and the threads map
 * and unmap memory of their own all the time.
 */
export function crossCheck(region: SharedRegion, backend: KernelStackBackend, point: string): CrossCheck {
  const { created, freed } = region.totals();
  const stranded = region.readU32(Header.STRANDED_MAPPINGS);
  return {
    point,
    counted: countVmasWithin(readMaps(), backend.mappedRanges()),
    expected: VMAS_PER_STACK * (created - freed) + stranded,
  };
}

/** "after round 3: /proc/self/maps shows 812 VMAs in the stacks' mappings, the counter implies 810" */
export function describeMismatch(c: CrossCheck): string {
  return `${c.point}: /proc/self/maps shows ${c.counted} VMAs in the stacks' mappings, the counter implies ${c.expected}`;
}
