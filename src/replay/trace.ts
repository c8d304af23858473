import { InputError } from "../errors.js";
import { MAX_SHOWN_CHARS, shownText } from "../message-text.js";
import { AT, ByteRun, DOT, HASH, isDigit, NEWLINE, SPACE, wordView } from "./byte-scan.js";
import { LiveCoroutines } from "./live-coroutines.js";
import { MICROS_PER_SECOND, NO_TIME, type PoolEventSink } from "./pool-events.js";

/**
 * One executable line of a trace, with its 1-based line number in the file,
 * and its time in microseconds when the line carries one (`@SECONDS` first).
 */
export type TraceEvent =
  | { kind: "inc" | "dec"; line: number; amount: number; time?: number }
  | { kind: "create" | "terminate"; line: number; thread: number; name: string; time?: number }
  | { kind: "exit"; line: number; thread: number; time?: number };

export interface Trace {
  threads: number;
  events: TraceEvent[];
  /** The most coroutines live at once: bounds the stacks a replay can need. */
  maxLive: number;
  creates: number;
}

/** Simulated threads a trace may declare. */
export const MAX_TRACE_THREADS = 4096;
const U32_MAX = 0xffffffff;
/** Fraction digits a trace time may have: microseconds, QEMU's own resolution. */
const MAX_TIME_FRACTION_DIGITS = 6;

/**
 * Parses and checks a whole trace before anything runs, so bad input is
 * reported (exit 2) without a half-done replay. Liveness does not depend on
 * the policy, so "terminate of a coroutine that is not live" is found here too.
 */
export function parseTrace(text: string, source = "trace"): Trace {
  const collector = new TraceCollector();
  const decoder = new TraceDecoder(source, collector);
  collector.namesFrom(decoder);
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) decoder.parseLine(lines[i]!, i + 1);
  // A final newline ends the last line; it does not start another.
  const lastLine = Math.max(1, text.endsWith("\n") ? lines.length - 1 : lines.length);
  decoder.finish(lastLine);
  return collector.trace(decoder);
}

/**
 * The coropool trace format, one line at a time, checked as it goes and
 * delivered to a sink: the streaming half of parseTrace, which the replay
 * of a file uses so that a trace of any length needs memory only for the
 * coroutines live at once.
 *
 * A line may start with a time, `@SECONDS[.FRACTION]` (at most microseconds):
 * traces written before times existed have none and mean what they meant.
 */
export class TraceDecoder {
  private threads = 0;
  private readonly live = new LiveCoroutines<string>();
  /** Whether any line carried a time, and the first one (microseconds). */
  hasTimes = false;
  firstTime = NO_TIME;
  /** The name of the coroutine in the event being delivered. */
  currentName = "";
  /** The time readTime read last. */
  private quickTime = NO_TIME;

  constructor(
    private readonly source: string,
    private readonly sink: PoolEventSink,
  ) {}

  get maxLive(): number {
    return this.live.maxLive;
  }

  get creates(): number {
    return this.live.creates;
  }

  get threadCount(): number {
    return this.threads;
  }

  /**
   * A block of whole lines of bytes (LineSplitter): the common line,
   * `[@SECONDS[.FRACTION] ]create|terminate T<i> <name>` with single spaces
   * and an ASCII name, is read from the bytes in place; any other line is
   * decoded and given to parseLine, which also says what is wrong with a bad
   * one. The quick reading only ever declines, never judges: both give the
   * same events. Returns how many lines the block held.
   */
  readonly parseBlock = (bytes: Buffer, start: number, end: number, firstLine: number): number => {
    const view = wordView(bytes);
    let line = firstLine;
    for (let p = start; p < end; line++) {
      const nl = bytes.indexOf(NEWLINE, p);
      const lineEnd = nl === -1 || nl > end ? end : nl;
      if (!this.readCoroutineLine(view, bytes, p, lineEnd, line)) this.parseLine(bytes.toString("utf8", p, lineEnd), line);
      p = lineEnd + 1;
    }
    return line - firstLine;
  };

  /** The quick reading of bytes[p, end) (see parseBlock): whether it was such a line, and delivered. */
  private readCoroutineLine(view: DataView, bytes: Buffer, p: number, end: number, line: number): boolean {
    if (this.threads === 0) return false;
    let time = NO_TIME;
    if (bytes[p] === AT) {
      p = this.readTime(bytes, p + 1, end);
      if (p < 0) return false;
      time = this.quickTime;
    }
    let kind: "create" | "terminate";
    if (CREATE_T.matchesAt(view, bytes, p, end)) {
      kind = "create";
      p += CREATE_T.length;
    } else if (TERMINATE_T.matchesAt(view, bytes, p, end)) {
      kind = "terminate";
      p += TERMINATE_T.length;
    } else {
      return false;
    }
    const digitsStart = p;
    let thread = 0;
    for (; p < end && isDigit(bytes[p]!); p++) thread = thread * 10 + (bytes[p]! - ZERO);
    if (p === digitsStart || p - digitsStart > MAX_QUICK_DIGITS || thread >= this.threads || bytes[p] !== SPACE) return false;
    const nameStart = ++p;
    for (; p < end; p++) if (!isQuickNameByte(bytes[p]!)) return false;
    if (p === nameStart) return false;
    if (time !== NO_TIME) this.noteTime(time);
    this.parseCoroutineEvent(kind, thread, bytes.toString("latin1", nameStart, end), line, time);
    return true;
  }

  /** `SECONDS[.FRACTION] ` from after the "@": its time goes to quickTime; returns where the event starts, or -1 to decline. */
  private readTime(bytes: Buffer, p: number, end: number): number {
    const secondsStart = p;
    let seconds = 0;
    for (; p < end && isDigit(bytes[p]!); p++) seconds = seconds * 10 + (bytes[p]! - ZERO);
    if (p === secondsStart || p - secondsStart > MAX_SECONDS_DIGITS) return -1;
    let fraction = 0;
    let fractionDigits = 0;
    if (bytes[p] === DOT) {
      const fractionStart = ++p;
      for (; p < end && isDigit(bytes[p]!); p++) fraction = fraction * 10 + (bytes[p]! - ZERO);
      fractionDigits = p - fractionStart;
      if (fractionDigits === 0 || fractionDigits > MAX_TIME_FRACTION_DIGITS) return -1;
    }
    if (bytes[p] !== SPACE) return -1;
    // As parseTime computes it: seconds × 10^6 + the fraction padded to 6 digits.
    this.quickTime = seconds * MICROS_PER_SECOND + fraction * 10 ** (MAX_TIME_FRACTION_DIGITS - fractionDigits);
    return p + 1;
  }

  parseLine(raw: string, line: number): void {
    const words = wordsOf(raw);
    if (words.length === 0) return;
    let time = NO_TIME;
    if (words[0]!.charCodeAt(0) === AT) {
      time = this.parseTime(words.shift()!, line);
      if (words.length === 0) throw this.error(line, "a time with no event after it; write '@SECONDS EVENT ...'");
    }
    const [kind, ...args] = words as [string, ...string[]];
    if (kind === "threads") return this.parseThreads(args, line);
    if (this.threads === 0) {
      throw this.error(line, `'${shown(kind)}' before the 'threads N' line; the first event line must be 'threads N'`);
    }
    switch (kind) {
      case "inc":
      case "dec":
        this.expectArgs(kind, args, 1, line, `${kind} K`);
        this.sink[kind](this.parseU32(args[0]!, line, kind), line, time);
        return;
      case "create":
      case "terminate":
        this.expectArgs(kind, args, 2, line, `${kind} T<i> <name>`);
        return this.parseCoroutineEvent(kind, this.parseThread(args[0]!, line), args[1]!, line, time);
      case "exit":
        this.expectArgs(kind, args, 1, line, "exit T<i>");
        this.sink.exit(this.parseThread(args[0]!, line), line, time);
        return;
      default:
        throw this.error(line, `unknown event '${shown(kind)}'; allowed: threads, inc, dec, create, terminate, exit`);
    }
  }

  /** `lastLine`: the file's last line, where a missing 'threads' line is reported. */
  finish(lastLine: number): void {
    if (this.threads === 0) throw this.error(lastLine, "no 'threads N' line up to the end of the file; a trace must declare its threads first");
  }

  private parseThreads(args: string[], line: number): void {
    if (this.threads !== 0) throw this.error(line, "'threads' given again; it must appear exactly once");
    this.expectArgs("threads", args, 1, line, "threads N");
    const n = /^\d+$/.test(args[0]!) ? Number(args[0]) : NaN;
    if (!(n >= 1 && n <= MAX_TRACE_THREADS)) {
      throw this.error(line, `bad thread count '${shown(args[0]!)}'; allowed: an integer from 1 to ${MAX_TRACE_THREADS}`);
    }
    this.threads = n;
    this.sink.threadsSeen(n);
  }

  private parseCoroutineEvent(kind: "create" | "terminate", thread: number, name: string, line: number, time: number): void {
    this.currentName = name;
    if (kind === "create") {
      if (this.live.idOf(name) !== -1) throw this.error(line, `create of '${shown(name)}', which is already live; a name may be reused only after its terminate`);
      this.sink.create(thread, this.live.start(name), line, time);
    } else {
      const co = this.live.end(name);
      if (co === -1) throw this.error(line, `terminate of '${shown(name)}', which is not live; terminate only a coroutine that was created and not yet terminated`);
      this.sink.terminate(thread, co, line, time);
    }
  }

  private parseThread(word: string, line: number): number {
    const t = word.charCodeAt(0) === LETTER_T && isDecimal(word, 1) ? Number(word.slice(1)) : NaN;
    if (!(t >= 0 && t < this.threads)) {
      throw this.error(line, `bad thread '${shown(word)}'; allowed: T0 to T${this.threads - 1}`);
    }
    return t;
  }

  private parseU32(word: string, line: number, kind: string): number {
    const n = isDecimal(word, 0) ? Number(word) : NaN;
    if (!(n >= 0 && n <= U32_MAX)) {
      throw this.error(line, `bad amount '${shown(word)}' for ${kind}; allowed: an integer from 0 to ${U32_MAX}`);
    }
    return n;
  }

  /** `@SECONDS[.FRACTION]` to integer microseconds, exactly (no float rounding). */
  private parseTime(word: string, line: number): number {
    const m = /^@(\d{1,12})(?:\.(\d{1,6}))?$/.exec(word);
    if (!m) {
      throw this.error(line, `bad time '${shown(word)}'; write '@SECONDS' with at most ${MAX_TIME_FRACTION_DIGITS} digits after the point, e.g. @12.000250`);
    }
    const fraction = (m[2] ?? "").padEnd(MAX_TIME_FRACTION_DIGITS, "0");
    const time = Number(m[1]) * MICROS_PER_SECOND + Number(fraction);
    this.noteTime(time);
    return time;
  }

  private noteTime(time: number): void {
    if (!this.hasTimes) this.firstTime = time;
    this.hasTimes = true;
  }

  private expectArgs(kind: string, args: string[], n: number, line: number, usage: string): void {
    if (args.length !== n) throw this.error(line, `'${kind}' takes ${n} argument${n === 1 ? "" : "s"} (${usage}), got ${args.length}`);
  }

  private error(line: number, message: string): InputError {
    return new InputError("ERR_TRACE", `${this.source}:${line}: ${message}`);
  }
}

/** Keeps every event of a trace, for parseTrace's whole-trace form. */
class TraceCollector implements PoolEventSink {
  private threads = 0;
  private readonly events: TraceEvent[] = [];
  private decoder: TraceDecoder | null = null;

  /** Events carry names: the decoder says which one each create and terminate is about. */
  namesFrom(decoder: TraceDecoder): void {
    this.decoder = decoder;
  }

  threadsSeen(count: number): void {
    this.threads = count;
  }
  inc(amount: number, line: number, time: number): void {
    this.events.push(withTime({ kind: "inc", line, amount }, time));
  }
  dec(amount: number, line: number, time: number): void {
    this.events.push(withTime({ kind: "dec", line, amount }, time));
  }
  create(thread: number, _co: number, line: number, time: number): void {
    this.events.push(withTime({ kind: "create", line, thread, name: this.decoder!.currentName }, time));
  }
  terminate(thread: number, _co: number, line: number, time: number): void {
    this.events.push(withTime({ kind: "terminate", line, thread, name: this.decoder!.currentName }, time));
  }
  exit(thread: number, line: number, time: number): void {
    this.events.push(withTime({ kind: "exit", line, thread }, time));
  }

  trace(decoder: TraceDecoder): Trace {
    return { threads: this.threads, events: this.events, maxLive: decoder.maxLive, creates: decoder.creates };
  }
}

function withTime<E extends TraceEvent>(event: E, time: number): E {
  if (time !== NO_TIME) event.time = time;
  return event;
}

const ZERO = 0x30;
const CREATE_T = ByteRun.of("create T");
const TERMINATE_T = ByteRun.of("terminate T");
/** Digits of seconds a time may have (parseTime's pattern). */
const MAX_SECONDS_DIGITS = 12;
/** A thread's digits the quick reading takes (T0 to T4095, with a few leading zeros). */
const MAX_QUICK_DIGITS = 6;


/** A name byte the quick reading takes: printable ASCII, not "#" (a comment) nor a space. */
function isQuickNameByte(c: number): boolean {
  return c > SPACE && c < 0x7f && c !== HASH;
}

const LETTER_T = 0x54;

/** Whether word[from..] is one or more ASCII digits (what /^\d+$/ accepts). */
function isDecimal(word: string, from: number): boolean {
  if (word.length <= from) return false;
  for (let i = from; i < word.length; i++) {
    const c = word.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}
const FIRST_NON_ASCII = 0x80;

/**
 * The words of a line as the format defines them: '#' starts a comment, words
 * are separated by JavaScript's whitespace (\s). Pure-ASCII text (every real
 * trace) is split by hand; a line with any other character takes the regular
 * expression, since \s also covers Unicode spaces.
 */
export function wordsOf(raw: string): string[] {
  const words: string[] = [];
  let start = -1;
  let i = 0;
  for (; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === HASH) break;
    if (c >= FIRST_NON_ASCII) return wordsBySpec(raw);
    if (isAsciiSpace(c)) {
      if (start >= 0) words.push(raw.slice(start, i));
      start = -1;
    } else if (start < 0) {
      start = i;
    }
  }
  if (start >= 0) words.push(raw.slice(start, i));
  return words;
}

function wordsBySpec(raw: string): string[] {
  const hash = raw.indexOf("#");
  return (hash === -1 ? raw : raw.slice(0, hash)).trim().split(/\s+/).filter((w) => w !== "");
}

/** The ASCII members of \s: tab, line feed, vertical tab, form feed, carriage return, space. */
function isAsciiSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/** Trace words are whitespace-free but may hold other control characters, or be very long. */
function shown(word: string): string {
  return shownText(word, MAX_SHOWN_CHARS);
}
