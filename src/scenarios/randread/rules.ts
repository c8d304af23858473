/**
 * The rules of a randread file: closed-loop random reads, like fio's randread
 * job, against a device model. Beyond the schema: a block size written as
 * text ("4k") must come to whole sectors within the limit, and no block size
 * may be given twice however it is written ("4k" and 4096).
 */
import { parseByteSize } from "../../byte-size.js";
import { DESCRIPTION, kindFile, MAX_THREADS, SEED, THREADS, DEFAULT_THREADS } from "../common-fields.js";
import { distinctList, integer, numberIn, object, optional, value } from "../field-rules.js";
import { DEFAULT_DEVICE_MODEL } from "./device.js";

/** Block sizes are whole sectors, as for O_DIRECT I/O. */
export const SECTOR_SIZE = 512;
const KIB = 1024;
const MIB = 1024 * KIB;
export const MAX_BLOCK_SIZE = 16 * MIB;
export const MIN_DURATION_MS = 10;
export const MAX_DURATION_MS = 600_000;
export const MAX_IODEPTH = 1024;
/** Device model sanity bounds: one second of latency, 1 TB/s. */
export const MAX_LATENCY_US = 1_000_000;
export const MAX_BANDWIDTH_MBPS = 1_000_000;
/** Lists a user writes out by hand (block sizes, iodepths): a bound only against typos. */
export const MAX_LIST_ITEMS = 64;

export const DEFAULT_RANDREAD_BLOCK_SIZES = [4 * KIB, 128 * KIB] as const;
/** The seed's fio table: iodepths 1 to 64. */
export const DEFAULT_RANDREAD_IODEPTHS = [1, 8, 16, 32, 64] as const;
export const DEFAULT_RANDREAD_DURATION_MS = 1000;

/** A size as text: digits with an optional k or m (binary units); g never fits under MAX_BLOCK_SIZE. */
const BLOCK_SIZE_TEXT = "^[0-9]+[kKmM]?$";

/** "4k", "128K", "1m", "4096" or 4096: bytes, a whole number of sectors. */
const BLOCK_SIZE = value(
  {
    anyOf: [
      { type: "integer", minimum: SECTOR_SIZE, maximum: MAX_BLOCK_SIZE, multipleOf: SECTOR_SIZE },
      { type: "string", pattern: BLOCK_SIZE_TEXT },
    ],
  },
  {
    allowed:
      `a multiple of ${SECTOR_SIZE} bytes from ${SECTOR_SIZE} to 16m, ` +
      `as an integer of bytes or a string like "4k", "128k", "1m"`,
    accepts: (given) => typeof given !== "string" || isBlockSize(parseByteSize(given)),
    read: (given) => (typeof given === "string" ? (parseByteSize(given) ?? given) : given),
  },
);

function isBlockSize(bytes: number | null): boolean {
  return bytes !== null && bytes % SECTOR_SIZE === 0 && bytes <= MAX_BLOCK_SIZE;
}

/** Each parameter has its own default: a file may set just the one it varies. */
const DEVICE_MODEL = object(
  {
    latencyUs: optional(
      numberIn(0, MAX_LATENCY_US, `a number from 0 to ${MAX_LATENCY_US}`),
      DEFAULT_DEVICE_MODEL.latencyUs,
      "Fixed latency of every request, in microseconds (from 0 to one second).",
    ),
    bandwidthMBps: optional(
      numberIn(0, MAX_BANDWIDTH_MBPS, `a number greater than 0 and at most ${MAX_BANDWIDTH_MBPS}`, true),
      DEFAULT_DEVICE_MODEL.bandwidthMBps,
      "Transfer rate in MB/s: a request also takes its size at this rate.",
    ),
  },
  { allowed: "an object with latencyUs and bandwidthMBps" },
);

export const RANDREAD_FILE = kindFile(
  "randread",
  "randread: each IOThread keeps iodepth requests in flight, each in its own coroutine, against a device model; every block size at every iodepth.",
  {
    description: DESCRIPTION,
    threads: optional(THREADS, DEFAULT_THREADS, `IOThreads, one job each (1 to ${MAX_THREADS}).`),
    blockSizes: optional(
      distinctList(BLOCK_SIZE, `A block size: bytes (4096) or text with k or m ("4k", "1m"), a multiple of ${SECTOR_SIZE} up to 16m.`, MAX_LIST_ITEMS),
      [...DEFAULT_RANDREAD_BLOCK_SIZES],
      "Block sizes to measure, each a multiple of 512 bytes up to 16m, as an integer of bytes or a string like \"4k\"; no size twice.",
    ),
    iodepths: optional(
      distinctList(integer(1, MAX_IODEPTH), "Requests in flight per IOThread.", MAX_LIST_ITEMS),
      [...DEFAULT_RANDREAD_IODEPTHS],
      "Iodepths to measure; no iodepth twice.",
    ),
    durationMs: optional(
      integer(MIN_DURATION_MS, MAX_DURATION_MS),
      DEFAULT_RANDREAD_DURATION_MS,
      "How long each measurement (one block size at one iodepth) runs, in milliseconds.",
    ),
    device: optional(
      DEVICE_MODEL,
      { ...DEFAULT_DEVICE_MODEL },
      "The device model: a request completes after latencyUs plus its size at bandwidthMBps (defaults derived from the seed's fio table). Each field may be given alone.",
    ),
    seed: SEED,
  },
);
