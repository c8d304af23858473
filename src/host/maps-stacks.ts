/**
 * A live process's coroutine stacks, recognised in its /proc/PID/maps: the
 * one rule `watch` and `validate:qemu` both use.
 *
 * QEMU's qemu_alloc_stack maps a stack as one private anonymous mmap of
 * stack size + one host page, then makes its lowest page PROT_NONE. In the
 * maps that is a one-page `---p` guard directly below (guard end == next
 * start) a `rw-p` map, both anonymous (no file, no name). So a stack is:
 *
 *   guard:  ---p, anonymous, exactly one host page
 *   stack:  rw-p, anonymous, starts where the guard ends,
 *           at least the stack size (1 MiB) and smaller than a thread stack
 *
 * Why a range and not exactly the stack size: mmap places a new map right
 * below the last one, and where that one is anonymous rw-p memory (not
 * another stack's guard) the kernel merges the new stack's rw part into it
 * (validate:qemu saw 1044K, 1060K, 1156K, 1420K, 5124K). Two stacks never
 * merge: a guard always sits between them.
 *
 * What it cannot tell apart:
 * - a stack merged into a neighbour so large that the merged map is as large
 *   as a thread stack or larger: not counted (it looks like a thread's stack);
 * - a thread whose stack size was set (pthread_attr_setstacksize) between the
 *   stack size and the default thread stack: counted as a coroutine stack;
 * - a stack in use from one in a pool: both are mapped the same.
 *
 * The thread stack size is glibc's default for a new thread: RLIMIT_STACK's
 * soft limit (from /proc/PID/limits) rounded up to a page; "unlimited" makes
 * glibc use ARCH_STACK_DEFAULT_SIZE, 2 MiB on x86_64 and aarch64 (glibc's
 * sysdeps/<arch>/nptl/pthreaddef.h), so 2 MiB is taken then: with 8 MiB,
 * every 2 MiB thread stack of such a process would count as a coroutine.
 *
 * The file is streamed: read in chunks into one reused buffer, each line
 * parsed in place from its bytes, never held whole. Addresses are parsed into
 * doubles: a page-aligned address below 2^65 has at most 53 significant bits,
 * so it is exact.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { readProcText } from "./proc-text.js";

/** QEMU's coroutine stack size (COROUTINE_STACK_SIZE, 1 MiB). */
export const QEMU_STACK_SIZE = 1 << 20;
/** glibc's thread stack where RLIMIT_STACK is unlimited (ARCH_STACK_DEFAULT_SIZE on x86_64 and aarch64). */
export const UNLIMITED_THREAD_STACK_SIZE = 2 << 20;
/** The thread stack assumed where /proc/PID/limits cannot be read: glibc's from the usual 8 MiB RLIMIT_STACK. */
export const DEFAULT_THREAD_STACK_SIZE = 8 << 20;

export interface StackRule {
  /** The smallest rw map that is a stack: the build's coroutine stack size. */
  stackSize: number;
  /** The guard's size: one host page. */
  guardSize: number;
  /** A rw map this large or larger is a thread's stack, not a coroutine's. */
  threadStackSize: number;
}

export interface MapsCount {
  /** VMAs: the file's lines less [vsyscall], which is not one. */
  vmas: number;
  /** Coroutine stacks by the rule. */
  stacks: number;
}

const NEWLINE = 0x0a;
const SPACE = 0x20;
const DASH = 0x2d;
const ZERO = 0x30;
const CLOSE_BRACKET = 0x5d;
const VSYSCALL = Buffer.from("[vsyscall]");
/** The permission bytes of a guard (---p) and a stack (rw-p). */
const R = 0x72;
const W = 0x77;
const P = 0x70;

/**
 * Counts VMAs and stacks line by line, fed the file's bytes in pieces; each
 * piece must end at a line's end (the reader keeps a partial line for the
 * next read).
 */
export class MapsScanner {
  vmas = 0;
  stacks = 0;
  /** Where the last line's guard ended, or -1 when the last line was no guard. */
  private guardEnd = -1;

  constructor(private readonly rule: StackRule) {}

  /** Parses the whole lines in buf[from, to); returns where the unparsed rest begins. */
  feed(buf: Buffer, from: number, to: number): number {
    let at = from;
    for (let nl = buf.indexOf(NEWLINE, at); nl !== -1 && nl < to; nl = buf.indexOf(NEWLINE, at)) {
      this.line(buf, at, nl);
      at = nl + 1;
    }
    return at;
  }

  /** The last line, where the file does not end with a newline. */
  finish(buf: Buffer, from: number, to: number): MapsCount {
    if (to > from) this.line(buf, from, to);
    return { vmas: this.vmas, stacks: this.stacks };
  }

  private line(buf: Buffer, start: number, end: number): void {
    if (end - start < 20) return;
    if (buf[end - 1] === CLOSE_BRACKET && isVsyscall(buf, end)) return; // the only "]" lines are named maps: rare
    this.vmas++;
    let i = start;
    let lo = 0;
    for (let c = buf[i]!; c !== DASH; c = buf[++i]!) lo = lo * 16 + hexDigit(c);
    let hi = 0;
    for (let c = buf[++i]!; c !== SPACE; c = buf[++i]!) hi = hi * 16 + hexDigit(c);
    const perms = i + 1;
    const size = hi - lo;
    const guardEnd = this.guardEnd;
    this.guardEnd = -1;
    // Byte by byte, not buf.compare: a call into C++ per line costs more than the four reads.
    if (buf[perms] === DASH && buf[perms + 1] === DASH && buf[perms + 2] === DASH && buf[perms + 3] === P) {
      if (size === this.rule.guardSize && isAnonymous(buf, perms + 5, end)) this.guardEnd = hi;
    } else if (lo === guardEnd && buf[perms] === R && buf[perms + 1] === W && buf[perms + 2] === DASH && buf[perms + 3] === P) {
      if (size >= this.rule.stackSize && size < this.rule.threadStackSize && isAnonymous(buf, perms + 5, end)) this.stacks++;
    }
  }
}

function hexDigit(c: number): number {
  return c <= 0x39 ? c - ZERO : (c | 0x20) - 0x57;
}

function isVsyscall(buf: Buffer, end: number): boolean {
  return end - VSYSCALL.length >= 0 && buf.compare(VSYSCALL, 0, VSYSCALL.length, end - VSYSCALL.length, end) === 0;
}

/**
 * After the permissions: "OFFSET DEV INODE[ PATH]". Anonymous: inode 0 and
 * no path (a named map such as [heap] or [anon:x] is not a coroutine's).
 * Byte loops, not buf.indexOf: every guard and stack line comes here, and two
 * calls into C++ a line cost more than walking its ~20 bytes (measured: the
 * scan of a 65,530-map file took 30% less time).
 */
function isAnonymous(buf: Buffer, from: number, end: number): boolean {
  let i = skipField(buf, from, end); // past the offset
  i = skipField(buf, i + 1, end); // past the device
  if (i >= end) return false;
  if (buf[i + 1] !== ZERO || (i + 2 < end && buf[i + 2] !== SPACE)) return false;
  for (i += 2; i < end; i++) if (buf[i] !== SPACE) return false;
  return true;
}

/** Where the field starting at `from` ends: its next space, or `end`. */
function skipField(buf: Buffer, from: number, end: number): number {
  let i = from;
  while (i < end && buf[i] !== SPACE) i++;
  return i;
}

/** Bytes read at a time: as `cat` reads. */
const CHUNK_BYTES = 128 << 10;
/** The longest line kept whole: a path is at most PATH_MAX (4096) after ~75 bytes of fields. */
const MAX_LINE_BYTES = 8 << 10;
/** One buffer for every read (the reads are synchronous, so never two at once). */
let chunk: Buffer | null = null;

/**
 * Streams a maps file through the rule. Throws what the reads throw
 * (ENOENT, EACCES, ESRCH): the caller says what that means for a process.
 */
export function scanMapsFile(path: string, rule: StackRule): MapsCount {
  chunk ??= Buffer.allocUnsafe(CHUNK_BYTES + MAX_LINE_BYTES);
  const buf = chunk;
  const scanner = new MapsScanner(rule);
  const fd = openSync(path, "r");
  try {
    let kept = 0;
    for (;;) {
      const n = readSync(fd, buf, kept, CHUNK_BYTES, null);
      if (n === 0) return scanner.finish(buf, 0, kept);
      const end = kept + n;
      const rest = scanner.feed(buf, 0, end);
      kept = end - rest;
      if (kept > MAX_LINE_BYTES) kept = 0; // no maps line is this long: drop it rather than grow
      buf.copyWithin(0, rest, end);
    }
  } finally {
    closeSync(fd);
  }
}

/** The same rule over a maps file's text already in hand (validate:qemu keeps the text it saves). */
export function scanMapsText(text: string, rule: StackRule): MapsCount {
  const buf = Buffer.from(text, "latin1");
  const scanner = new MapsScanner(rule);
  const rest = scanner.feed(buf, 0, buf.length);
  return scanner.finish(buf, rest, buf.length);
}

/** "Max stack size            8388608              unlimited            bytes" */
const STACK_LIMIT_LINE = /^Max stack size\s+(\S+)/m;

/**
 * The stack a new thread of `pid` gets from glibc: RLIMIT_STACK's soft limit
 * rounded up to a page, 2 MiB where it is unlimited, 8 MiB where the limits
 * cannot be read (or are not a number).
 */
export function threadStackSize(limitsText: string | null, pageSize: number): number {
  const soft = limitsText === null ? null : (STACK_LIMIT_LINE.exec(limitsText)?.[1] ?? null);
  if (soft === "unlimited") return UNLIMITED_THREAD_STACK_SIZE;
  if (soft === null || !/^\d+$/.test(soft)) return DEFAULT_THREAD_STACK_SIZE;
  return Math.ceil(Number(soft) / pageSize) * pageSize;
}

/** The rule for one process: its thread stack size from /proc/PID/limits. */
export function stackRuleFor(pid: number, stackSize = QEMU_STACK_SIZE): StackRule {
  const guardSize = hostPageSize();
  let limits: string | null = null;
  try {
    limits = readProcText(`/proc/${pid}/limits`, "latin1");
  } catch {
    // unreadable: the usual 8 MiB (the maps read that follows says why it failed, if it does)
  }
  return { stackSize, guardSize, threadStackSize: threadStackSize(limits, guardSize) };
}

const PAGE_LINE = /KernelPageSize:\s+(\d+) kB/;
let pageSize: number | null = null;

/** The host's page size, from the first map of /proc/self/smaps (read once; 4 KiB if unreadable). */
export function hostPageSize(): number {
  if (pageSize !== null) return pageSize;
  pageSize = 4096;
  try {
    const fd = openSync("/proc/self/smaps", "r");
    try {
      const head = Buffer.alloc(4096);
      const n = readSync(fd, head, 0, head.length, null);
      const kb = PAGE_LINE.exec(head.toString("latin1", 0, n))?.[1];
      if (kb !== undefined) pageSize = Number(kb) * 1024;
    } finally {
      closeSync(fd);
    }
  } catch {
    // not Linux, or no smaps: 4 KiB
  }
  return pageSize;
}
