import { InputError } from "../errors.js";
import { MAX_SHOWN_CHARS, shownText } from "../message-text.js";
import { AddressTable } from "./address-table.js";
import { AT, ByteRun, DIGIT_VALUES, DOT, HEX_VALUES, isDigit, NEWLINE, SPACE, wordView } from "./byte-scan.js";
import { CoroutineIds } from "./live-coroutines.js";
import { MICROS_PER_SECOND as MICROS_A_SECOND, NO_TIME as NONE, POOL_OPERATION_FIELDS, POOL_OPERATION_KINDS, type PoolEventSink, type PoolOperationKind } from "./pool-events.js";
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
 * A patched QEMU (qemu/patches/) also traces its pool's own operations,
 * `qemu_coroutine_pool_refill size 128 global 640` and the like
 * (POOL_OPERATION_FIELDS): each goes to the sink's poolOperation, so a
 * replay can check itself against QEMU step by step. A known pool event
 * without its fields is an input error.
 *
 * Every other trace event is counted and skipped. A line that is not a trace
 * event at all is an input error with its line number.
 *
 * Parsed in place, from the bytes: no regular expression, no split, no
 * string and no number boxed per line (addresses are kept as two 32-bit
 * halves, see AddressTable). A log is a few threads writing the same fields
 * again and again, so the parser compares four bytes at a time (ByteRun) and
 * skips what repeats: a prefix that starts as the last one did up to its
 * "." has only its fraction read, and an enter that starts as the last one
 * read in full did, up to "to 0x", only its target.
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
  readonly counts = { enters: 0, reEnters: 0, terminates: 0, unmatchedTerminates: 0, poolOperations: 0, otherEvents: 0, blankLines: 0 };
  /** Whether the lines carry thread ids (and times): `-msg timestamp=on`. */
  hasThreadIds = false;
  firstTime = NO_TIME;
  /** The last address parsed, as its high and low 32 bits. */
  private hi = 0;
  private lo = 0;
  /** The line being parsed: its bytes (and a view of them for word compares), where it starts and ends, its number. */
  private bytes: Buffer = Buffer.alloc(0);
  private view: DataView = wordView(this.bytes);
  private start = 0;
  private end = 0;
  private line = 0;
  /** Its thread id and time (microseconds), from its prefix; -1 and NO_TIME when it has none. */
  private tid = -1;
  private time = NO_TIME;
  /** The last full prefix up to its "." ("14300@1795990742."), and its thread id and seconds. */
  private readonly lastPrefix = new ByteRun(MAX_PREFIX_BYTES);
  private lastPrefixTid = -1;
  private lastPrefixSeconds = 0;
  /** The last enter read in full, up to its target ("qemu_aio_coroutine_enter ctx 0x… from 0x… to 0x"), and its AioContext's thread. */
  private readonly lastEnter = new ByteRun(MAX_ENTER_BYTES);
  private lastEnterCtxThread = -1;
  private lastTid = -1;
  private lastTidThread = -1;
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
    this.bytes = bytes;
    this.view = wordView(bytes);
    let line = firstLine;
    for (let p = start; p < end; line++) {
      // The native search finds the line's end faster than a loop over its bytes.
      const nl = bytes.indexOf(NEWLINE, p);
      this.end = nl === -1 || nl > end ? end : nl;
      this.line = line;
      this.parseLine(p);
      p = this.end + 1;
    }
    return line - firstLine;
  };

  /**
   * Parses the line at `p`: bytes[p, end) without its "\n". The line being
   * parsed is in fields (bytes, view, start, end, line, tid, time) rather
   * than arguments: the hot functions stay short and cheap to call.
   */
  private parseLine(p: number): void {
    const bytes = this.bytes;
    const end = this.end;
    this.start = p;
    if (p === end || (bytes[p] === CR && p + 1 === end)) {
      this.counts.blankLines++;
      return;
    }
    this.tid = -1;
    this.time = NO_TIME;
    if (DIGIT_VALUE[bytes[p]!]! >= 0) p = this.parsePrefix(p);
    if (!this.started) this.begin();
    const kind = bytes[p + EVENT_KIND_AT];
    if (kind === ENTER_KIND && (this.enteredLikeLast(p) || this.parseEnter(p))) return;
    if (kind === TERMINATE_KIND && (this.parseTerminate(p) || this.parsePoolOperation(p))) return;
    if (isEventName(bytes, p, end)) {
      this.counts.otherEvents++;
    } else {
      throw this.error(`not a QEMU trace event: '${this.shownLine()}'; expected [TID@SECONDS.MICROSECONDS:]EVENT_NAME ARGS..., as QEMU's log trace backend writes`);
    }
  }

  /** The pool increase comes first, as the devices are realized before any I/O; at the first line's time. */
  private begin(): void {
    this.started = true;
    if (this.poolIncrease > 0) this.sink.inc(this.poolIncrease, 0, this.time);
  }

  /**
   * `TID@SECONDS.MICROSECONDS:` at `p` → tid and time; returns the position
   * past the colon. Lines come in runs from one thread in one second: when
   * the line starts as the last full prefix did, up to its ".", only the
   * fraction is read.
   */
  private parsePrefix(p: number): number {
    const bytes = this.bytes;
    const last = this.lastPrefix;
    if (last.length > 0 && last.matchesAt(this.view, bytes, p, this.end)) {
      this.tid = this.lastPrefixTid;
      return this.parseFraction(p + last.length, this.lastPrefixSeconds);
    }
    const start = p;
    let tid = 0;
    let d: number;
    // No `p < end` in these loops: the byte at `end` is the line's "\n" or past the buffer (undefined), and neither is a digit.
    for (; (d = DIGIT_VALUE[bytes[p]!]!) >= 0; p++) tid = tid * 10 + d;
    if (bytes[p] !== AT) throw this.badPrefix();
    let seconds = 0;
    for (p++; (d = DIGIT_VALUE[bytes[p]!]!) >= 0; p++) seconds = seconds * 10 + d;
    if (bytes[p] !== DOT || tid > MAX_TID) throw this.badPrefix();
    p++;
    if (p - start <= MAX_PREFIX_BYTES) {
      this.lastPrefix.copyOf(bytes, start, p - start);
      this.lastPrefixTid = tid;
      this.lastPrefixSeconds = seconds;
    }
    this.tid = tid;
    p = this.parseFraction(p, seconds);
    if (this.firstTime === NO_TIME) {
      this.firstTime = this.time;
      this.hasThreadIds = true;
    }
    return p;
  }

  /** `MICROSECONDS:` at `p`, in the second `seconds` → time; returns the position past the colon. */
  private parseFraction(p: number, seconds: number): number {
    const bytes = this.bytes;
    const start = p;
    let fraction = 0;
    let d: number;
    for (; (d = DIGIT_VALUE[bytes[p]!]!) >= 0; p++) fraction = fraction * 10 + d;
    const digits = p - start;
    if (digits === 0 || digits > MICROS_DIGITS || p === this.end || bytes[p] !== COLON) throw this.badPrefix();
    this.time = seconds * MICROS_PER_SECOND + fraction * MICROS_SCALE[digits]!;
    return p + 1;
  }

  /**
   * A thread enters from the same coroutine in the same AioContext again and
   * again (a real log has a dozen runs of ctx and from in 64,000 enters):
   * when the line at `p` starts as the last enter read in full did, up to
   * "to 0x", only its target is read. Returns whether it did.
   */
  private enteredLikeLast(p: number): boolean {
    const last = this.lastEnter;
    // Without a thread id the thread is the AioContext's, known only if the last enter had no thread id either.
    if (last.length === 0 || (this.tid < 0 && this.lastEnterCtxThread < 0) || !last.matchesAt(this.view, this.bytes, p, this.end)) return false;
    this.hexAt(p + last.length, TO);
    this.entered(this.tid >= 0 ? this.threadOfTid(this.tid) : this.lastEnterCtxThread);
    return true;
  }

  /**
   * `qemu_aio_coroutine_enter ctx C from F to T opaque O` at `p`, read in
   * full (the opaque is not read) and kept for the next enter; false when
   * the line is another event.
   */
  private parseEnter(p: number): boolean {
    if (!ENTER.matchesAt(this.view, this.bytes, p, this.end)) return false;
    const start = p;
    p = this.address(p + ENTER.length, CTX);
    const thread = this.tid >= 0 ? this.threadOfTid(this.tid) : this.threadOfCtx(this.hi, this.lo);
    const bytes = this.bytes;
    if (!FROM.matchesAt(this.view, bytes, p, this.end)) throw this.badEvent(FROM);
    for (p += FROM.length; p < this.end && bytes[p] !== SPACE; p++);
    if (!TO.matchesAt(this.view, bytes, p, this.end)) throw this.badEvent(TO);
    p += TO.length;
    if (p - start <= MAX_ENTER_BYTES) {
      this.lastEnter.copyOf(bytes, start, p - start);
      this.lastEnterCtxThread = this.tid < 0 ? thread : -1;
    }
    this.hexAt(p, TO);
    this.entered(thread);
    return true;
  }

  /** `thread` entered the coroutine at hi and lo: created if it is not live. */
  private entered(thread: number): void {
    this.counts.enters++;
    let co = this.live.get(this.hi, this.lo);
    if (co !== -1) {
      this.counts.reEnters++;
    } else {
      co = this.ids.take();
      this.live.add(this.hi, this.lo, co);
      if (co >= this.lastThread.length) this.lastThread = grown(this.lastThread, co);
      this.sink.create(thread, co, this.line, this.time);
    }
    this.lastThread[co] = thread;
  }

  /** `qemu_coroutine_terminate self T` at `p` (its name and label compared at once); false when the line is another event. */
  private parseTerminate(p: number): boolean {
    if (!TERMINATE_SELF.matchesAt(this.view, this.bytes, p, this.end)) {
      if (TERMINATE.matchesAt(this.view, this.bytes, p, this.end)) throw this.badEvent(SELF);
      return false;
    }
    this.hexAt(p + TERMINATE_SELF.length, SELF);
    this.counts.terminates++;
    const co = this.live.remove(this.hi, this.lo);
    if (co === -1) {
      // Entered before the log started: nothing of it is known.
      this.counts.unmatchedTerminates++;
      return true;
    }
    this.ids.give(co);
    const thread = this.tid >= 0 ? this.threadOfTid(this.tid) : this.lastThread[co]!;
    this.sink.terminate(thread, co, this.line, this.time);
    return true;
  }

  /**
   * `qemu_coroutine_pool_KIND FIELD VALUE ...` at `p` (a patched QEMU's
   * pool operation) → the sink; false when the line is another event. Read
   * as text: one such line comes per batch of 128 coroutines at most.
   */
  private parsePoolOperation(p: number): boolean {
    if (!POOL_EVENT.matchesAt(this.view, this.bytes, p, this.end)) return false;
    const words = this.bytes.toString("latin1", p + POOL_EVENT.length, this.end).trim().split(/\s+/);
    const kind = words[0] as PoolOperationKind;
    if (!POOL_OPERATION_KINDS.includes(kind)) return false;
    const fields: Record<string, number> = {};
    for (let i = 1; i + 1 < words.length; i += 2) fields[words[i]!] = Number(words[i + 1]);
    const missing = POOL_OPERATION_FIELDS[kind].find((f) => !Number.isInteger(fields[f]) || fields[f]! < 0);
    if (missing !== undefined) {
      throw this.error(`malformed qemu_coroutine_pool_${kind}: no '${missing} N' in '${this.shownLine()}'; expected ${POOL_OPERATION_FIELDS[kind].map((f) => `${f} N`).join(" ")}`);
    }
    this.counts.poolOperations++;
    const thread = this.tid >= 0 ? this.threadOfTid(this.tid) : -1;
    this.sink.poolOperation?.({ kind, thread, fields }, this.line, this.time);
    return true;
  }

  /** Lines come in runs from one thread: the last thread id's index is kept at hand. */
  private threadOfTid(tid: number): number {
    if (tid === this.lastTid) return this.lastTidThread;
    const known = this.tidThreads.get(0, tid);
    this.lastTid = tid;
    this.lastTidThread = known !== -1 ? known : this.newThread(this.tidThreads, 0, tid, `tid ${tid}`);
    return this.lastTidThread;
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

  /** `LABEL 0xHEX` (up to 64 bits) at `p`: the address goes to hi and lo; returns the position past it. */
  private address(p: number, label: ByteRun): number {
    if (!label.matchesAt(this.view, this.bytes, p, this.end)) throw this.badEvent(label);
    return this.hexAt(p + label.length, label);
  }

  /** The hex digits of the `label` field's address at `p` → hi and lo; returns the position past them. */
  private hexAt(p: number, label: ByteRun): number {
    const bytes = this.bytes;
    const first = p;
    let hi = 0;
    let lo = 0;
    let d: number;
    // The byte at `end` ("\n" or past the buffer) is no hex digit: see parsePrefix.
    for (; (d = HEX_VALUE[bytes[p]!]!) >= 0; p++) {
      hi = (hi << 4) | (lo >>> 28);
      lo = (lo << 4) | d;
    }
    const digits = p - first;
    if (digits === 0 || digits > MAX_HEX_DIGITS || !(p === this.end || bytes[p] === SPACE || bytes[p] === CR)) throw this.badEvent(label);
    this.hi = hi;
    this.lo = lo;
    return p;
  }

  private badPrefix(): InputError {
    return this.error(`bad line prefix in '${this.shownLine()}'; expected TID@SECONDS.MICROSECONDS: as -msg timestamp=on writes`);
  }

  private badEvent(label: ByteRun): InputError {
    const event = label === SELF ? TERMINATE : ENTER;
    return this.error(`malformed ${event.text.trim()}: no '${fieldName(label)} 0xADDRESS' where expected in '${this.shownLine()}'`);
  }

  /** The line being parsed, as text for a message. */
  private shownLine(): string {
    return shown(this.bytes.toString("utf8", this.start, this.end).replace(/\r$/, ""));
  }

  private error(message: string): InputError {
    return new InputError("ERR_TRACE", `${this.source}:${this.line}: ${message}`);
  }
}

/**
 * The byte tables, bound here: V8 reads an imported binding through a
 * checked cell at every use, a module's own constant without one, and the
 * parser reads these tables at nearly every byte (15% of its time), and the
 * two time constants at every line.
 */
const DIGIT_VALUE = DIGIT_VALUES;
const HEX_VALUE = HEX_VALUES;
const NO_TIME = NONE;
const MICROS_PER_SECOND = MICROS_A_SECOND;
const ENTER = ByteRun.of("qemu_aio_coroutine_enter ");
const TERMINATE = ByteRun.of("qemu_coroutine_terminate ");
/** The name and the label of its only field, compared at once. */
const TERMINATE_SELF = ByteRun.of("qemu_coroutine_terminate self 0x");
/** A patched QEMU's pool operations (qemu/patches/): the name's common part. */
const POOL_EVENT = ByteRun.of("qemu_coroutine_pool_");
/** The fields' labels, each with the "0x" its address starts with; `from` is skipped, not read (and not held to 0x). */
const CTX = ByteRun.of("ctx 0x");
const FROM = ByteRun.of(" from ");
const TO = ByteRun.of(" to 0x");
const SELF = ByteRun.of("self 0x");
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
/** A prefix up to its "." longer than this (no real one is: 10 digits of tid, 10 of seconds) is not kept for the next line. */
const MAX_PREFIX_BYTES = 32;
/** An enter up to its target longer than this (a real one is at most 72 bytes) is not kept for the next enter. */
const MAX_ENTER_BYTES = 96;
const CR = 0x0d;
const COLON = 0x3a;
const UNDERSCORE = 0x5f;


/** A label's field name for messages: "ctx" of "ctx 0x". */
function fieldName(label: ByteRun): string {
  return label.text.replace("0x", "").trim();
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

function shown(text: string): string {
  return shownText(text, MAX_SHOWN_CHARS);
}
