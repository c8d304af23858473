import { readFileSync } from "node:fs";

/** Linux's default vm.max_map_count, assumed wherever the real one cannot be read. */
export const LINUX_DEFAULT_MAX_MAP_COUNT = 65530;

/**
 * VMAs assumed for the rest of the process where /proc/self/maps cannot be
 * read (not Linux). A Node.js process on Linux was seen here with about 40.
 */
export const DEFAULT_BASELINE_VMAS = 64;

/** The largest vm.max_map_count there is: the kernel keeps it in an int. */
export const LARGEST_MAX_MAP_COUNT = 0x7fffffff;

/** VMAs QEMU leaves for everything that is not a coroutine stack. */
export const HARD_CAP_RESERVED_VMAS = 5000;

/** UINT_MAX: QEMU's "no hard cap". */
export const UNLIMITED_POOL_SIZE = 0xffffffff;

export interface LimitSource {
  value: number;
  /** Where the number came from, for reports. */
  source: string;
}

/**
 * The host's vm.max_map_count. Unlike QEMU's strict parser (which rejects the
 * file's trailing newline and so silently falls back to "unlimited"), this
 * reads the number correctly; a missing or odd file means the Linux default.
 */
export function readMaxMapCount(path = "/proc/sys/vm/max_map_count"): LimitSource {
  try {
    const text = readFileSync(path, "utf8").trim();
    if (/^\d+$/.test(text)) {
      const value = Number(text);
      if (Number.isSafeInteger(value) && value > 0 && value <= LARGEST_MAX_MAP_COUNT) return { value, source: path };
    }
  } catch {
    // fall through to the default
  }
  return { value: LINUX_DEFAULT_MAX_MAP_COUNT, source: "Linux default (could not read " + path + ")" };
}

/** The process's real VMA count: one line of /proc/self/maps per VMA. */
export function readProcessVmaCount(path = "/proc/self/maps"): number | null {
  try {
    const text = readFileSync(path, "utf8");
    let lines = 0;
    for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) lines++;
    return lines;
  } catch {
    return null;
  }
}

export function defaultBaselineVmas(): LimitSource {
  const real = readProcessVmaCount();
  return real === null
    ? { value: DEFAULT_BASELINE_VMAS, source: "stated default (no /proc/self/maps)" }
    : { value: real, source: "/proc/self/maps" };
}

/**
 * batched's global_pool_hard_max_size: leave 5000 VMAs for everything else and
 * halve the rest, since each pooled stack holds 2. At or below 5000 the global
 * pool is disabled (0) while threads keep their local pools.
 */
export function batchedHardMaxSize(maxMapCount: number): number {
  return maxMapCount > HARD_CAP_RESERVED_VMAS ? Math.floor((maxMapCount - HARD_CAP_RESERVED_VMAS) / 2) : 0;
}

/**
 * The HARD_MAX_SIZE a region records: batched's cap from `maxMapCount`, or
 * UINT_MAX when `uncapped` asks for QEMU's practical behaviour (its parser
 * rejects /proc's trailing newline and falls back to "no cap").
 */
export function poolHardMaxSize(maxMapCount: number, uncapped: boolean): number {
  return uncapped ? UNLIMITED_POOL_SIZE : batchedHardMaxSize(maxMapCount);
}
