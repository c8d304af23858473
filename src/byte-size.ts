/**
 * Sizes as people write them for block devices and stacks: "4096", "4k",
 * "128K", "1m", "2g" (binary units, as fio and QEMU use them).
 */
const UNITS: Record<string, number> = { "": 1, k: 1 << 10, m: 1 << 20, g: 1 << 30 };
const PATTERN = /^(\d+)([kmg]?)$/i;

/** The size in bytes, or null when `text` is not such a size (or is 0). */
export function parseByteSize(text: string): number | null {
  const m = PATTERN.exec(text);
  if (!m) return null;
  const bytes = Number(m[1]) * UNITS[m[2]!.toLowerCase()]!;
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : null;
}

/** 4096 -> "4k", 131072 -> "128k", 16777216 -> "16m": the shortest exact form. */
export function formatByteSize(bytes: number): string {
  for (const unit of ["g", "m", "k"] as const) {
    if (bytes >= UNITS[unit]! && bytes % UNITS[unit]! === 0) return `${bytes / UNITS[unit]!}${unit}`;
  }
  return String(bytes);
}
