import { readFileSync } from "node:fs";

/** Linux's default vm.max_map_count, assumed wherever the real one cannot be read. */
export const LINUX_DEFAULT_MAX_MAP_COUNT = 65530;

/**
 * VMAs assumed for the rest of the process where /proc/self/maps cannot be
 * read (not Linux). A Node.js process on Linux was seen here with about 40.
 */
export const DEFAULT_BASELINE_VMAS = 64;

/**
 * What a real QEMU maps besides its coroutine stacks: the baseline a replay
 * of a QEMU log or trace assumes unless told, so that a replay depends only
 * on its input and options (not on the replaying process's own maps).
 *
 * Measured by `npm run validate:qemu` (its "idle baseline" column: every VMA
 * in /proc/PID/maps less 2 per coroutine stack, 1 s after the guest said it
 * was ready, before any load), 2026-12-01, TCG, 2 vCPUs, 512 MiB, Debian 12's
 * QEMU 7.2 (7.2+dfsg-7+deb12u18) and bookworm-backports' QEMU 10.0.2, two
 * runs of each configuration:
 *
 *                                       QEMU 7.2      QEMU 10.0.2
 *   virtio-2-iothreads (2 x 256)          367, 370      355, 356
 *   nvme-main-loop                        354, 357      342, 341
 *   burst-then-other (2 x 512)            371, 367      357, 355
 *
 * Most of it is QEMU's shared libraries (250 to 260 file mappings); the rest
 * moves by a few between runs as thread-pool workers (an 8 MiB stack and its
 * guard each) come and go. The constant is the largest seen, QEMU 7.2 with
 * two virtio-blk devices (2 queues x 512) on two IOThreads: a limit found safe
 * with it is safe for each of these. A real guest with more devices, RAM or
 * threads maps more: give the baseline you measure (`--baseline-vmas`).
 */
export const QEMU_BASELINE_VMAS = 371;

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
