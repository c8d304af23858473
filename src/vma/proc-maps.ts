import { readFileSync } from "node:fs";

/** One line of /proc/self/maps: a VMA's range and permissions. */
export interface MapsEntry {
  start: number;
  end: number;
  perms: string;
}

export function readMaps(path = "/proc/self/maps"): MapsEntry[] {
  const entries: MapsEntry[] = [];
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+)/.exec(line);
    if (m) entries.push({ start: parseInt(m[1]!, 16), end: parseInt(m[2]!, 16), perms: m[3]! });
  }
  return entries;
}

/**
 * VMAs that lie inside the given mappings (sorted or not). Each coroutine
 * stack should show exactly two: the PROT_NONE guard page and the stack.
 * A VMA that straddles a mapping's edge (the kernel merged it with a
 * neighbour) counts as inside, so the mismatch shows.
 */
export function countVmasWithin(entries: MapsEntry[], ranges: [number, number][]): number {
  if (ranges.length === 0) return 0;
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  let n = 0;
  for (const e of entries) {
    if (overlapsAny(sorted, e.start, e.end)) n++;
  }
  return n;
}

function overlapsAny(sorted: [number, number][], start: number, end: number): boolean {
  let lo = 0;
  let hi = sorted.length - 1;
  // The last range starting before `end`, then check it reaches past `start`.
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (sorted[mid]![0] < end) lo = mid;
    else hi = mid - 1;
  }
  const r = sorted[lo]!;
  return r[0] < end && start < r[1];
}
