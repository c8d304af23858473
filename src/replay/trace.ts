import { InputError } from "../errors.js";
import { shownText } from "../message-text.js";
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
    if (!this.hasTimes) this.firstTime = time;
    this.hasTimes = true;
    return time;
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

const AT = 0x40;
const HASH = 0x23;
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
const MAX_SHOWN_CHARS = 60;

function shown(word: string): string {
  return shownText(word, MAX_SHOWN_CHARS);
}
