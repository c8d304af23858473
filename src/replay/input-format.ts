import { isEventName, QemuLogDecoder } from "./qemu-log.js";
import { LineSplitter, textChunks, type LogInput } from "./line-source.js";
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
}

/**
 * Reads an input once, in chunks, recognises its format from its first line
 * that says anything, and delivers its pool events to `sink` as they come.
 * Throws InputError (with the line) on input that is neither format.
 */
export async function decodeInput(input: LogInput, sink: PoolEventSink, options: DecodeOptions): Promise<DecodedInput> {
  let trace: TraceDecoder | null = null;
  let qemu: QemuLogDecoder | null = null;
  const splitter = new LineSplitter(options.source, (text, start, end, line) => {
    const format = formatOfLine(text, start, end);
    if (format === null) return;
    if (format === "qemu-log") {
      qemu = new QemuLogDecoder(options.source, sink, options.poolIncrease);
      splitter.handOver(qemu.parseLine);
      qemu.parseLine(text, start, end, line);
    } else {
      const decoder = new TraceDecoder(options.source, sink);
      trace = decoder;
      splitter.handOver((t, s, e, l) => decoder.parseLine(t.slice(s, e), l));
      decoder.parseLine(text.slice(start, end), line);
    }
  });
  for await (const chunk of textChunks(input)) splitter.feed(chunk);
  splitter.end();
  const lines = splitter.lines;
  if (qemu !== null) return qemuFacts(qemu, lines);
  // No line said anything: a trace without its 'threads' line, reported as ever.
  const decoder = (trace as TraceDecoder | null) ?? new TraceDecoder(options.source, sink);
  decoder.finish(Math.max(1, lines));
  return { format: "coropool-trace", lines, hasTimes: decoder.hasTimes, firstTime: decoder.firstTime, maxLive: decoder.maxLive, creates: decoder.creates, qemu: null };
}

function qemuFacts(decoder: QemuLogDecoder, lines: number): DecodedInput {
  const c = decoder.counts;
  return {
    format: "qemu-log",
    lines,
    hasTimes: decoder.firstTime !== NO_TIME,
    firstTime: decoder.firstTime,
    maxLive: decoder.maxLive,
    creates: decoder.creates,
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
export function formatOfLine(text: string, start: number, end: number): InputFormat | null {
  let p = start;
  while (p < end && isBlank(text.charCodeAt(p))) p++;
  if (p === end || text.charCodeAt(p) === HASH) return null;
  let digits = p;
  while (digits < end && text.charCodeAt(digits) >= ZERO && text.charCodeAt(digits) <= NINE) digits++;
  if (digits > p && text.charCodeAt(digits) === AT && digits + 1 < end && text.charCodeAt(digits + 1) >= ZERO && text.charCodeAt(digits + 1) <= NINE) {
    return "qemu-log";
  }
  return isEventName(text, p, end) ? "qemu-log" : "coropool-trace";
}

const HASH = 0x23;
const AT = 0x40;
const ZERO = 0x30;
const NINE = 0x39;

function isBlank(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}
