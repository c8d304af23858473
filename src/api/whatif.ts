/**
 * whatIf(): a log from a real VM (or a coropool trace) under every pool
 * policy: what it needs, whether it survives a max_map_count, and the least
 * max_map_count that keeps it alive. The result is the document `coropool
 * whatif --json` prints; renderReport draws its page.
 */
import { apiDoor, type Door } from "../options/door.js";
import { resolveWhatIfOptions } from "../options/doors.js";
import type { PolicyName } from "../pools/index.js";
import type { LogInput } from "../replay/line-source.js";
import type { PolicySpec } from "../replay/replay-log.js";
import { whatIf as whatIfOfLog } from "../replay/whatif.js";
import { toDocument, type WhatIfDocument } from "../report/document.js";
import { whatIfReport } from "../report/whatif-document.js";
import { logInputOf, type PoolIncreaseOptions, type TraceInput } from "./replay.js";

export interface WhatIfOptions extends PoolIncreaseOptions {
  /**
   * The policies to compare, in this order: names, or `{ policy, uncapped }`.
   * Default: every policy, and batched twice: uncapped (as QEMU runs it on
   * Linux), then capped (as it was meant to run).
   */
  policies?: (PolicyName | PolicySpec)[];
  /** Every policy given by name runs without the hard cap (batched as QEMU runs it). */
  uncapped?: boolean;
  /** The limit asked about; default: this host's vm.max_map_count (65530 if unreadable). */
  maxMapCount?: number;
  /** VMAs the process has besides coroutine stacks; default: QEMU_BASELINE_VMAS (what an idle QEMU maps). */
  baselineVmas?: number;
  /** Stops the reading: the answer is that of the lines read so far, the document marked `interrupted`. */
  signal?: AbortSignal;
  /** Told how much of the input each pass has read: (bytes read, file size, which pass). */
  onProgress?: (done: number, total: number | undefined, step: string) => void;
}

/**
 * Buckets per series in the document: each keeps its least and most value,
 * so a series has at most twice this many points, about what a chart draws.
 */
const DOCUMENT_SERIES_BUCKETS = 400;

/**
 * The what-if of `log` — a path, a bundled trace's name, or the lines. The
 * exact smallest safe max_map_count of a capped batched pool may read the
 * input more than once: lines given as a one-shot iterator (a generator) are
 * kept in memory for that; a path is streamed each time.
 */
export async function whatIf(log: TraceInput, options: WhatIfOptions = {}): Promise<WhatIfDocument> {
  return whatIfAt(apiDoor("whatIf"), log, options);
}

/** The what-if as `door` asks it (the CLI's whatif and the API's whatIf are one code). */
export async function whatIfAt(door: Door, log: TraceInput, options: unknown): Promise<WhatIfDocument> {
  const request = resolveWhatIfOptions(door, options);
  const { input, source } = logInputOf(door, log);
  const result = await whatIfOfLog(await rereadable(input), {
    policies: request.policies,
    maxMapCount: request.maxMapCount,
    baselineVmas: request.baselineVmas,
    poolIncrease: request.poolIncrease,
    source,
    seriesBuckets: DOCUMENT_SERIES_BUCKETS,
    signal: request.signal,
    onProgress: request.onProgress,
  });
  return toDocument(whatIfReport(result, source));
}

/** An input that can be read again: lines that are their own iterator are read once, here. */
async function rereadable(input: LogInput): Promise<LogInput> {
  if (!("lines" in input)) return input;
  const { lines } = input;
  if (!isOwnIterator(lines)) return input;
  const kept: string[] = [];
  for await (const line of lines) kept.push(line);
  return { lines: kept };
}

/** A generator is its own iterator: iterating it again gives nothing. An array or a Set gives a fresh one each time. */
function isOwnIterator(lines: Iterable<string> | AsyncIterable<string>): boolean {
  const it: unknown = Symbol.asyncIterator in lines ? (lines as AsyncIterable<string>)[Symbol.asyncIterator]() : (lines as Iterable<string>)[Symbol.iterator]();
  return it === lines;
}
