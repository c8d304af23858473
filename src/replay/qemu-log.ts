import { InputError } from "../errors.js";
import { shownText } from "../message-text.js";
import { LiveCoroutines } from "./live-coroutines.js";
import { MICROS_PER_SECOND, NO_TIME, type PoolEventSink } from "./pool-events.js";
import { MAX_TRACE_THREADS } from "./trace.js";

/**
 * QEMU's log trace backend, as `-trace qemu_aio_coroutine_enter -trace
 * qemu_coroutine_terminate -D FILE` writes it:
 *
 *     qemu_aio_coroutine_enter ctx 0x55f1e7f731b0 from 0x7f130c455d88 to 0x55f1e8fa7020 opaque 0x7fff4b0deef0
 *     qemu_coroutine_terminate self 0x55f1e8fa7020
 *
 * and with `-msg timestamp=on` each line starts `TID@SECONDS.MICROSECONDS:`,
 * the writing thread's id and the time.
 *
 * QEMU logs no creation: a coroutine is created, on the thread that enters
 * it, just before the first enter of an address that is not live, and its
 * address is free again once it terminated. It terminates on the thread that
 * ran it last. Threads are the real thread ids when the lines carry them;
 * else the only identity in the log is the AioContext (`ctx`), and the main
 * thread owns two AioContexts (the main loop's and the iohandler's) that
 * share one thread's pool, so it shows as two threads.
 *
 * Every other trace event is counted and skipped. A line that is not a trace
 * event at all is an input error with its line number.
 *
 * Parsed in place, character by character: no regular expression, no split,
 * no string made per line.
 */
export class QemuLogDecoder {
  private readonly live = new LiveCoroutines<number | string>();
  /** The thread that entered each live coroutine last, by coroutine id: where it terminates. */
  private lastThread: Int32Array = new Int32Array(1024);
  /** Thread index by key: a TID; an AioContext's address negated, less one; a long address as text. */
  private readonly threadIndex = new Map<number | string, number>();
  /** What each thread is, in the order first seen: "tid 305", "ctx 0x55dd1e79b290". */
  readonly threadLabels: string[] = [];
  readonly counts = { enters: 0, reEnters: 0, terminates: 0, unmatchedTerminates: 0, otherEvents: 0, blankLines: 0 };
  /** Whether the lines carry thread ids (and times): `-msg timestamp=on`. */
  hasThreadIds = false;
  firstTime = NO_TIME;
  /** Where the parser is in the current line. */
  private pos = 0;
  /** The known event being parsed, for messages. */
  private event = ENTER;
  private started = false;

  constructor(
    private readonly source: string,
    private readonly sink: PoolEventSink,
    /** The pool size increase the devices made at realize, applied before the first event. */
    readonly poolIncrease: number,
  ) {}

  get maxLive(): number {
    return this.live.maxLive;
  }

  get creates(): number {
    return this.live.creates;
  }

  /** A line handler (LineSplitter): the line is text[start, end). */
  readonly parseLine = (text: string, start: number, end: number, line: number): void => {
    if (end > start && text.charCodeAt(end - 1) === CR) end--;
    if (end === start) {
      this.counts.blankLines++;
      return;
    }
    if (!this.started) this.start();
    this.pos = start;
    let tid = -1;
    let time = NO_TIME;
    if (isDigit(text.charCodeAt(start))) {
      tid = this.parsePrefix(text, end, line);
      time = this.prefixTime;
    }
    const p = this.pos;
    if (text.startsWith(ENTER, p)) return this.parseEnter(text, end, line, tid, time);
    if (text.startsWith(TERMINATE, p)) return this.parseTerminate(text, end, line, tid, time);
    if (isEventName(text, p, end)) {
      this.counts.otherEvents++;
      return;
    }
    throw this.error(line, `not a QEMU trace event: '${shown(text.slice(start, end))}'; expected [TID@SECONDS.MICROSECONDS:]EVENT_NAME ARGS..., as QEMU's log trace backend writes`);
  };

  /** The pool increase comes first, as the devices are realized before any I/O. */
  private start(): void {
    this.started = true;
    if (this.poolIncrease > 0) this.sink.inc(this.poolIncrease, 0, NO_TIME);
  }

  private prefixTime = NO_TIME;

  /** `TID@SECONDS.MICROSECONDS:` → the TID; the time goes to prefixTime, `pos` past the colon. */
  private parsePrefix(text: string, end: number, line: number): number {
    const tid = this.digits(text, end);
    const seconds = this.expect(text, end, AT) ? this.digits(text, end) : -1;
    const fractionStart = this.pos + 1;
    const fraction = seconds >= 0 && this.expect(text, end, DOT) ? this.digits(text, end) : -1;
    const fractionDigits = this.pos - fractionStart;
    if (fraction < 0 || !this.expect(text, end, COLON) || fractionDigits > MICROS_DIGITS) {
      throw this.error(line, `bad line prefix in '${shown(text.slice(fractionStart - 1, end))}'; expected TID@SECONDS.MICROSECONDS: as -msg timestamp=on writes`);
    }
    this.prefixTime = seconds * MICROS_PER_SECOND + fraction * 10 ** (MICROS_DIGITS - fractionDigits);
    if (this.firstTime === NO_TIME) this.firstTime = this.prefixTime;
    this.hasThreadIds = true;
    return tid;
  }

  /** `qemu_aio_coroutine_enter ctx C from F to T opaque O` */
  private parseEnter(text: string, end: number, line: number, tid: number, time: number): void {
    this.event = ENTER;
    this.pos += ENTER.length;
    const ctx = this.field(text, end, "ctx ", line);
    this.skipField(text, end, " from ", line);
    const to = this.field(text, end, " to ", line);
    this.counts.enters++;
    const thread = tid >= 0 ? this.threadOf(tid, "tid") : this.threadOf(typeof ctx === "number" ? -ctx - 1 : ctx, "ctx", ctx);
    let co = this.live.idOf(to);
    if (co !== -1) {
      this.counts.reEnters++;
    } else {
      co = this.live.start(to);
      if (co >= this.lastThread.length) this.lastThread = grown(this.lastThread, co);
      this.sink.create(thread, co, line, time);
    }
    this.lastThread[co] = thread;
  }

  /** `qemu_coroutine_terminate self T` */
  private parseTerminate(text: string, end: number, line: number, tid: number, time: number): void {
    this.event = TERMINATE;
    this.pos += TERMINATE.length;
    const self = this.field(text, end, "self ", line);
    this.counts.terminates++;
    const co = this.live.end(self);
    if (co === -1) {
      // Entered before the log started: nothing of it is known.
      this.counts.unmatchedTerminates++;
      return;
    }
    const thread = tid >= 0 ? this.threadOf(tid, "tid") : this.lastThread[co]!;
    this.sink.terminate(thread, co, line, time);
  }

  /** The thread index of a TID or an AioContext, a new one at first sight. */
  private threadOf(key: number | string, kind: "tid" | "ctx", ctx?: number | string): number {
    const known = this.threadIndex.get(key);
    if (known !== undefined) return known;
    const index = this.threadLabels.length;
    if (index >= MAX_TRACE_THREADS) {
      throw new InputError("ERR_TRACE", `${this.source}: more than ${MAX_TRACE_THREADS} threads; coropool replays at most that many`);
    }
    this.threadIndex.set(key, index);
    this.threadLabels.push(kind === "tid" ? `tid ${key}` : `ctx ${typeof ctx === "number" ? "0x" + ctx.toString(16) : ctx}`);
    this.sink.threadsSeen(index + 1);
    return index;
  }

  /** `NAME 0xHEX`: the address as a number, exact up to 13 hex digits (52 bits), else as text. */
  private field(text: string, end: number, name: string, line: number): number | string {
    if (!text.startsWith(name, this.pos) || !text.startsWith("0x", this.pos + name.length)) throw this.badEvent(text, end, line, name.trim());
    this.pos += name.length + 2;
    const first = this.pos;
    let value = 0;
    for (; this.pos < end; this.pos++) {
      const d = hexDigit(text.charCodeAt(this.pos));
      if (d < 0) break;
      value = value * 16 + d;
    }
    const digits = this.pos - first;
    if (digits === 0 || (this.pos < end && text.charCodeAt(this.pos) !== SPACE)) throw this.badEvent(text, end, line, name.trim());
    return digits <= EXACT_HEX_DIGITS ? value : text.slice(first, this.pos).toLowerCase();
  }

  /** A field whose value is not needed: its name, then anything up to the next space. */
  private skipField(text: string, end: number, name: string, line: number): void {
    if (!text.startsWith(name, this.pos)) throw this.badEvent(text, end, line, name.trim());
    const space = text.indexOf(" ", this.pos + name.length);
    this.pos = space === -1 || space > end ? end : space;
  }

  private digits(text: string, end: number): number {
    const first = this.pos;
    let value = 0;
    for (; this.pos < end; this.pos++) {
      const c = text.charCodeAt(this.pos);
      if (!isDigit(c)) break;
      value = value * 10 + (c - ZERO);
    }
    return this.pos === first ? -1 : value;
  }

  private expect(text: string, end: number, char: number): boolean {
    if (this.pos >= end || text.charCodeAt(this.pos) !== char) return false;
    this.pos++;
    return true;
  }

  private badEvent(text: string, end: number, line: number, field: string): InputError {
    return this.error(line, `malformed ${this.event.trim()}: no '${field} 0xADDRESS' where expected in '${shown(text.slice(0, end).slice(-MAX_SHOWN_CHARS))}'`);
  }

  private error(line: number, message: string): InputError {
    return new InputError("ERR_TRACE", `${this.source}:${line}: ${message}`);
  }
}

const ENTER = "qemu_aio_coroutine_enter ";
const TERMINATE = "qemu_coroutine_terminate ";
/** Hex digits a double holds exactly: 13 × 4 = 52 bits, every user-space address of x86-64. */
const EXACT_HEX_DIGITS = 13;
const MICROS_DIGITS = 6;
const CR = 0x0d;
const SPACE = 0x20;
const AT = 0x40;
const DOT = 0x2e;
const COLON = 0x3a;
const ZERO = 0x30;
const NINE = 0x39;
const UNDERSCORE = 0x5f;

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

function hexDigit(c: number): number {
  if (c >= ZERO && c <= NINE) return c - ZERO;
  const lower = c | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

/**
 * A trace event's name, as QEMU's trace-events files spell them: lower-case
 * letters, digits and underscores, starting with a letter, with at least one
 * underscore; then the end of the line or a space.
 */
export function isEventName(text: string, start: number, end: number): boolean {
  let underscore = false;
  let i = start;
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === SPACE) break;
    if (c === UNDERSCORE) underscore = true;
    else if (!((c >= 0x61 && c <= 0x7a) || (i > start && isDigit(c)))) return false;
  }
  return underscore && i > start;
}

function grown(ids: Int32Array, needed: number): Int32Array {
  const next = new Int32Array(Math.max(needed + 1, 2 * ids.length));
  next.set(ids);
  return next;
}

const MAX_SHOWN_CHARS = 80;

function shown(text: string): string {
  return shownText(text, MAX_SHOWN_CHARS);
}
