import { AT, HASH, isDigit, NEWLINE } from "./byte-scan.js";
import { isEventName, QemuLogDecoder } from "./qemu-log.js";
import { byteChunks, LineSplitter, type BlockHandler, type LogInput, type ReadProgress } from "./line-source.js";
import { NO_TIME, type PoolEventSink } from "./pool-events.js";
import { TraceDecoder } from "./trace.js";

/** The two kinds of input a replay reads, told apart by their content. */
export type InputFormat = "coropool-trace" | "qemu-log";

/** What decoding an input found, besides the events it delivered. */
export interface DecodedInput {
  format: InputFormat;
  /** Lines read. */
  lines: number;
  /** Whether lines carry times; `firstTime` is the first of them (microseconds) or NO_TIME. */
  hasTimes: boolean;
  firstTime: number;
  /** The most coroutines live at once, and how many were created. */
  maxLive: number;
  creates: number;
  /** An AbortSignal stopped the reading: everything above is of the lines read before it. */
  stopped: boolean;
  /** For a QEMU log: what it held and how its threads were identified. */
  qemu: QemuLogFacts | null;
}

/** A QEMU log, described: the part of a replay's answer that belongs to the input, not to a policy. */
export interface QemuLogFacts {
  /** The pool size increase applied before the first event (given, or from the devices). */
  poolIncrease: number;
  enters: number;
  /** Enters of a coroutine already live (not creations). */
  reEnters: number;
  terminates: number;
  /** Terminates of an address never entered in the log (it started mid-run): skipped. */
  unmatchedTerminates: number;
  /** Other trace events: counted, skipped. */
  otherEvents: number;
  /** "thread ids" with -msg timestamp=on, else "AioContexts". */
  threadsAre: "thread ids" | "AioContexts";
  /** T0, T1, ... in the order first seen: "tid 305" or "ctx 0x55dd1e79b290". */
  threads: string[];
  /** Said when the threads are AioContexts: how the main thread shows. */
  note: string | null;
}

export const AIO_CONTEXT_NOTE =
  "the log has no thread ids (record with -msg timestamp=on to get them), so its threads are AioContexts; " +
  "QEMU's main thread owns two AioContexts (main loop and iohandler) that share one pool, so that pool shows split in two " +
  "and the stacks at the end may differ from QEMU's by a stack or two";

export interface DecodeOptions {
  /** Messages name the input so. */
  source: string;
  /** A QEMU log's pool increase (a coropool trace has its own `inc` lines). */
  poolIncrease: number;
  /** Stops the reading between two chunks; what was read so far is decoded and described. */
  signal?: AbortSignal;
  /** Told after each chunk how far the reading is (see ReadProgress). */
  onProgress?: ReadProgress;
}

/**
 * Reads an input once, in chunks, recognises its format from its first line
 * that says anything, and delivers its pool events to `sink` as they come.
 * Throws InputError (with the line) on input that is neither format.
 */
export async function decodeInput(input: LogInput, sink: PoolEventSink, options: DecodeOptions): Promise<DecodedInput> {
  if ("events" in input) {
    const { lines, maxLive, creates } = input.events.feed(sink);
    return { format: "coropool-trace", lines, hasTimes: false, firstTime: NO_TIME, maxLive, creates, stopped: false, qemu: null };
  }
  let trace: TraceDecoder | null = null;
  let qemu: QemuLogDecoder | null = null;
  // Lines that say nothing come first; the first that says something decides.
  const recognise: BlockHandler = (bytes, start, end, firstLine) => {
    let line = firstLine;
    for (let p = start; p < end; line++) {
      const nl = bytes.indexOf(NEWLINE, p);
      const lineEnd = nl === -1 || nl >= end ? end : nl;
      const format = formatOfLine(bytes, p, lineEnd);
      if (format !== null) {
        const handler = format === "qemu-log" ? (qemu = new QemuLogDecoder(options.source, sink, options.poolIncrease)).parseBlock : (trace = new TraceDecoder(options.source, sink)).parseBlock;
        splitter.handOver(handler);
        return line - firstLine + handler(bytes, p, end, line);
      }
      p = lineEnd + 1;
    }
    return line - firstLine;
  };
  const splitter = new LineSplitter(options.source, recognise);
  const stopped = await feedUntilStopped(byteChunks(input, options.onProgress), splitter, options.signal);
  // A line cut by the stop is left out: it may be the first part of a longer one.
  if (!stopped) splitter.end();
  const lines = splitter.lines;
  if (qemu !== null) return qemuFacts(qemu, lines, stopped);
  // No line said anything: a trace without its 'threads' line, reported as ever (unless the reading stopped first).
  const decoder = (trace as TraceDecoder | null) ?? new TraceDecoder(options.source, sink);
  if (!stopped) decoder.finish(Math.max(1, lines));
  return { format: "coropool-trace", lines, hasTimes: decoder.hasTimes, firstTime: decoder.firstTime, maxLive: decoder.maxLive, creates: decoder.creates, stopped, qemu: null };
}

/** Feeds every chunk to the splitter, or those before `signal` aborted; true if it did. */
async function feedUntilStopped(chunks: AsyncGenerator<Buffer>, splitter: LineSplitter, signal: AbortSignal | undefined): Promise<boolean> {
  for await (const chunk of chunks) {
    splitter.feed(chunk);
    // Checked after each chunk (the one in hand is read): a signal handler runs between two of them.
    if (signal?.aborted) {
      await chunks.return(undefined);
      return true;
    }
  }
  return false;
}

function qemuFacts(decoder: QemuLogDecoder, lines: number, stopped: boolean): DecodedInput {
  const c = decoder.counts;
  return {
    format: "qemu-log",
    lines,
    hasTimes: decoder.firstTime !== NO_TIME,
    firstTime: decoder.firstTime,
    maxLive: decoder.maxLive,
    creates: decoder.creates,
    stopped,
    qemu: {
      poolIncrease: decoder.poolIncrease,
      enters: c.enters,
      reEnters: c.reEnters,
      terminates: c.terminates,
      unmatchedTerminates: c.unmatchedTerminates,
      otherEvents: c.otherEvents,
      threadsAre: decoder.hasThreadIds ? "thread ids" : "AioContexts",
      threads: decoder.threadLabels,
      note: decoder.hasThreadIds ? null : AIO_CONTEXT_NOTE,
    },
  };
}

/**
 * The format a line shows, or null when it says nothing (blank, a comment).
 * A QEMU log line starts `TID@` or with a trace event's name, which always
 * has an underscore; no word of the coropool format has one.
 */
export function formatOfLine(bytes: Uint8Array, start: number, end: number): InputFormat | null {
  let p = start;
  while (p < end && isBlank(bytes[p]!)) p++;
  if (p === end || bytes[p]! === HASH) return null;
  let digits = p;
  while (digits < end && isDigit(bytes[digits]!)) digits++;
  if (digits > p && bytes[digits]! === AT && digits + 1 < end && isDigit(bytes[digits + 1]!)) {
    return "qemu-log";
  }
  return isEventName(bytes, p, end) ? "qemu-log" : "coropool-trace";
}

function isBlank(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}
