import { InputError } from "../errors.js";
import { shownText } from "../message-text.js";
import { AddressTable } from "./address-table.js";
import { CoroutineIds } from "./live-coroutines.js";
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
 * no string and no number boxed per line (addresses are kept as two 32-bit
 * halves, see AddressTable).
 */
export class QemuLogDecoder {
  /** Live coroutines: address → id. */
  private readonly live = new AddressTable();
  private readonly ids = new CoroutineIds();
  /** The thread that entered each live coroutine last, by coroutine id: where it terminates. */
  private lastThread: Int32Array = new Int32Array(1024);
  /** Thread index by thread id, and by AioContext address. */
  private readonly tidThreads = new AddressTable(16);
  private readonly ctxThreads = new AddressTable(16);
  /** What each thread is, in the order first seen: "tid 305", "ctx 0x55dd1e79b290". */
  readonly threadLabels: string[] = [];
  readonly counts = { enters: 0, reEnters: 0, terminates: 0, unmatchedTerminates: 0, otherEvents: 0, blankLines: 0 };
  /** Whether the lines carry thread ids (and times): `-msg timestamp=on`. */
  hasThreadIds = false;
  firstTime = NO_TIME;
  /** The last address parsed, as its high and low 32 bits. */
  private hi = 0;
  private lo = 0;
  /** The thread id and time (microseconds) of the current line's prefix. */
  private prefixTid = -1;
  private prefixTime = NO_TIME;
  private started = false;

  constructor(
    private readonly source: string,
    private readonly sink: PoolEventSink,
    /** The pool size increase the devices made at realize, applied before the first event. */
    readonly poolIncrease: number,
  ) {}

  get maxLive(): number {
    return this.ids.maxLive;
  }

  get creates(): number {
    return this.ids.creates;
  }

  /** A block handler (LineSplitter): every line of bytes[start, end), walked here. */
  readonly parseBlock = (bytes: Buffer, start: number, end: number, firstLine: number): number => {
    let line = firstLine;
    for (let p = start; p < end; line++) p = this.parseLine(bytes, p, end, line) + 1;
    return line - firstLine;
  };

  /** Parses the line starting at `p` (the block ends at `end`); returns where it ends (its "\n", or `end`). */
  private parseLine(bytes: Buffer, p: number, end: number, line: number): number {
    const c = bytes[p]!;
    if (c === NEWLINE || (c === CR && (p + 1 === end || bytes[p + 1] === NEWLINE))) {
      this.counts.blankLines++;
      return c === NEWLINE ? p : p + 1;
    }
    let tid = -1;
    let time = NO_TIME;
    const lineStart = p;
    if (isDigit(c)) {
      p = this.parsePrefix(bytes, p, end, line);
      tid = this.prefixTid;
      time = this.prefixTime;
    }
    if (!this.started) this.start(time);
    if (bytes[p + EVENT_KIND_AT] === ENTER_KIND && matchesAt(bytes, p, end, ENTER_BYTES)) {
      p = this.parseEnter(bytes, p + ENTER_BYTES.length, end, line, tid, time, lineStart);
    } else if (bytes[p + EVENT_KIND_AT] === TERMINATE_KIND && matchesAt(bytes, p, end, TERMINATE_BYTES)) {
      p = this.parseTerminate(bytes, p + TERMINATE_BYTES.length, end, line, tid, time, lineStart);
    } else if (isEventName(bytes, p, end)) {
      this.counts.otherEvents++;
    } else {
      throw this.error(line, `not a QEMU trace event: '${shown(lineText(bytes, lineStart, end))}'; expected [TID@SECONDS.MICROSECONDS:]EVENT_NAME ARGS..., as QEMU's log trace backend writes`);
    }
    while (p < end && bytes[p] !== NEWLINE) p++;
    return p;
  }

  /** The pool increase comes first, as the devices are realized before any I/O; at the first line's time. */
  private start(time: number): void {
    this.started = true;
    if (this.poolIncrease > 0) this.sink.inc(this.poolIncrease, 0, time);
  }

  /** `TID@SECONDS.MICROSECONDS:` → prefixTid and prefixTime; returns the position past the colon. */
  private parsePrefix(bytes: Buffer, p: number, end: number, line: number): number {
    const lineStart = p;
    let tid = 0;
    for (; p < end && isDigit(bytes[p]!); p++) tid = tid * 10 + (bytes[p]! - ZERO);
    let seconds = -1;
    if (p < end && bytes[p] === AT) for (seconds = 0, p++; p < end && isDigit(bytes[p]!); p++) seconds = seconds * 10 + (bytes[p]! - ZERO);
    const fractionStart = p + 1;
    let fraction = -1;
    if (seconds >= 0 && p < end && bytes[p] === DOT) for (fraction = 0, p++; p < end && isDigit(bytes[p]!); p++) fraction = fraction * 10 + (bytes[p]! - ZERO);
    const fractionDigits = p - fractionStart;
    if (fraction < 0 || fractionDigits === 0 || fractionDigits > MICROS_DIGITS || bytes[p] !== COLON || tid > MAX_TID) {
      throw this.error(line, `bad line prefix in '${shown(lineText(bytes, lineStart, end))}'; expected TID@SECONDS.MICROSECONDS: as -msg timestamp=on writes`);
    }
    this.prefixTid = tid;
    this.prefixTime = seconds * MICROS_PER_SECOND + fraction * MICROS_SCALE[fractionDigits]!;
    if (this.firstTime === NO_TIME) this.firstTime = this.prefixTime;
    this.hasThreadIds = true;
    return p + 1;
  }

  /** `qemu_aio_coroutine_enter ctx C from F to T opaque O`, from after the name. */
  private parseEnter(bytes: Buffer, p: number, end: number, line: number, tid: number, time: number, lineStart: number): number {
    p = this.address(bytes, p, end, CTX, line, lineStart);
    const thread = tid >= 0 ? this.threadOfTid(tid) : this.threadOfCtx(this.hi, this.lo);
    if (!matchesAt(bytes, p, end, FROM)) throw this.badEvent(ENTER, bytes, lineStart, end, line, FROM);
    for (p += FROM.length; p < end && bytes[p] !== SPACE && bytes[p] !== NEWLINE; p++);
    p = this.address(bytes, p, end, TO, line, lineStart);
    this.counts.enters++;
    let co = this.live.get(this.hi, this.lo);
    if (co !== -1) {
      this.counts.reEnters++;
    } else {
      co = this.ids.take();
      this.live.add(this.hi, this.lo, co);
      if (co >= this.lastThread.length) this.lastThread = grown(this.lastThread, co);
      this.sink.create(thread, co, line, time);
    }
    this.lastThread[co] = thread;
    return p;
  }

  /** `qemu_coroutine_terminate self T`, from after the name. */
  private parseTerminate(bytes: Buffer, p: number, end: number, line: number, tid: number, time: number, lineStart: number): number {
    p = this.address(bytes, p, end, SELF, line, lineStart);
    this.counts.terminates++;
    const co = this.live.remove(this.hi, this.lo);
    if (co === -1) {
      // Entered before the log started: nothing of it is known.
      this.counts.unmatchedTerminates++;
      return p;
    }
    this.ids.give(co);
    const thread = tid >= 0 ? this.threadOfTid(tid) : this.lastThread[co]!;
    this.sink.terminate(thread, co, line, time);
    return p;
  }

  private threadOfTid(tid: number): number {
    const known = this.tidThreads.get(0, tid);
    return known !== -1 ? known : this.newThread(this.tidThreads, 0, tid, `tid ${tid}`);
  }

  private threadOfCtx(hi: number, lo: number): number {
    const known = this.ctxThreads.get(hi, lo);
    return known !== -1 ? known : this.newThread(this.ctxThreads, hi, lo, `ctx 0x${hexOf(hi, lo)}`);
  }

  private newThread(table: AddressTable, hi: number, lo: number, label: string): number {
    const index = this.threadLabels.length;
    if (index >= MAX_TRACE_THREADS) {
      throw new InputError("ERR_TRACE", `${this.source}: more than ${MAX_TRACE_THREADS} threads; coropool replays at most that many`);
    }
    table.add(hi, lo, index);
    this.threadLabels.push(label);
    this.sink.threadsSeen(index + 1);
    return index;
  }

  /** `NAME 0xHEX` (up to 64 bits) at `p`: the address goes to hi and lo; returns the position past it. */
  private address(bytes: Buffer, p: number, end: number, name: Uint8Array, line: number, lineStart: number): number {
    const event = name === SELF ? TERMINATE : ENTER;
    if (!matchesAt(bytes, p, end, name) || bytes[p + name.length] !== ZERO || bytes[p + name.length + 1] !== X) {
      throw this.badEvent(event, bytes, lineStart, end, line, name);
    }
    p += name.length + 2;
    const first = p;
    let hi = 0;
    let lo = 0;
    for (; p < end; p++) {
      const d = hexDigit(bytes[p]!);
      if (d < 0) break;
      hi = (hi << 4) | (lo >>> 28);
      lo = (lo << 4) | d;
    }
    const digits = p - first;
    const next = p < end ? bytes[p]! : NEWLINE;
    if (digits === 0 || digits > MAX_HEX_DIGITS || !(next === SPACE || next === NEWLINE || next === CR)) throw this.badEvent(event, bytes, lineStart, end, line, name);
    this.hi = hi;
    this.lo = lo;
    return p;
  }

  private badEvent(event: string, bytes: Buffer, lineStart: number, end: number, line: number, field: Uint8Array): InputError {
    return this.error(line, `malformed ${event.trim()}: no '${fieldName(field)} 0xADDRESS' where expected in '${shown(lineText(bytes, lineStart, end))}'`);
  }

  private error(line: number, message: string): InputError {
    return new InputError("ERR_TRACE", `${this.source}:${line}: ${message}`);
  }
}

const ENTER = "qemu_aio_coroutine_enter ";
const TERMINATE = "qemu_coroutine_terminate ";
const ENTER_BYTES = Buffer.from(ENTER, "latin1");
const TERMINATE_BYTES = Buffer.from(TERMINATE, "latin1");
const CTX = Buffer.from("ctx ", "latin1");
const FROM = Buffer.from(" from ", "latin1");
const TO = Buffer.from(" to ", "latin1");
const SELF = Buffer.from("self ", "latin1");
/** Where the two known events' names first differ: qemu_[a]io_... and qemu_[c]oroutine_... */
const EVENT_KIND_AT = 5;
const ENTER_KIND = 0x61;
const TERMINATE_KIND = 0x63;
/** 10^(6 − digits): a fraction of `digits` digits in microseconds. */
const MICROS_SCALE = [1_000_000, 100_000, 10_000, 1_000, 100, 10, 1];
/** A pointer has at most 64 bits. */
const MAX_HEX_DIGITS = 16;
/** Linux thread ids are below 2^22 (PID_MAX_LIMIT); anything in an int32 is taken. */
const MAX_TID = 0x7fffffff;
const MICROS_DIGITS = 6;
const CR = 0x0d;
const NEWLINE = 0x0a;
const X = 0x78;
const SPACE = 0x20;
const AT = 0x40;
const DOT = 0x2e;
const COLON = 0x3a;
const ZERO = 0x30;
const NINE = 0x39;
const UNDERSCORE = 0x5f;

/** Whether bytes[at, end) starts with `word`. */
function matchesAt(bytes: Uint8Array, at: number, end: number, word: Uint8Array): boolean {
  if (at + word.length > end) return false;
  for (let i = 0; i < word.length; i++) if (bytes[at + i] !== word[i]) return false;
  return true;
}

/** The line at `start` (to its newline or `end`) as text, for messages. */
function lineText(bytes: Buffer, start: number, end: number): string {
  const nl = bytes.indexOf(NEWLINE, start);
  const lineEnd = nl === -1 || nl > end ? end : nl;
  return bytes.toString("utf8", start, lineEnd).replace(/\r$/, "");
}

function fieldName(word: Uint8Array): string {
  return Buffer.from(word).toString("latin1").trim();
}

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
export function isEventName(bytes: Uint8Array, start: number, end: number): boolean {
  let underscore = false;
  let i = start;
  for (; i < end; i++) {
    const c = bytes[i]!;
    if (c === SPACE || c === NEWLINE || c === CR) break;
    if (c === UNDERSCORE) underscore = true;
    else if (!((c >= 0x61 && c <= 0x7a) || (i > start && isDigit(c)))) return false;
  }
  return underscore && i > start;
}

function hexOf(hi: number, lo: number): string {
  return hi === 0 ? (lo >>> 0).toString(16) : (hi >>> 0).toString(16) + (lo >>> 0).toString(16).padStart(8, "0");
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
