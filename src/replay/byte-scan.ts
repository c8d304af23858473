/**
 * Byte-level scanning for the log parser: a log of a hundred million lines
 * cannot afford a string, a regular expression or a boxed number per line,
 * nor a branch per byte where a table or a word compare does.
 */

/** The bytes the log and trace readers look for, named once for all of them. */
export const NEWLINE = 0x0a;
export const SPACE = 0x20;
export const HASH = 0x23;
export const DOT = 0x2e;
export const AT = 0x40;

/** Each byte's value as a hex digit, or -1: one load instead of three range tests. */
export const HEX_VALUES = byteTable((c) => (isDigit(c) ? c - 0x30 : (c | 0x20) >= 0x61 && (c | 0x20) <= 0x66 ? (c | 0x20) - 0x61 + 10 : -1));
/** Each byte's value as a decimal digit, or -1. */
export const DIGIT_VALUES = byteTable((c) => (isDigit(c) ? c - 0x30 : -1));

/** Whether the byte is an ASCII decimal digit. */
export function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function byteTable(valueOf: (byte: number) => number): Int8Array {
  const table = new Int8Array(256);
  for (let c = 0; c < 256; c++) table[c] = valueOf(c);
  return table;
}

/** A view for word compares over a chunk of bytes (made once a chunk, not once a line). */
export function wordView(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * A run of bytes compared four at a time: an event's name, a field's label,
 * or the start of the line before. Byte by byte such compares were most of
 * a line's cost; word by word they are a quarter of it.
 */
export class ByteRun {
  readonly bytes: Uint8Array;
  /** The run as little-endian 32-bit words; its last length % 4 bytes are compared singly. */
  private readonly words: Int32Array;
  private readonly view: DataView;
  length = 0;

  /** An empty run that can hold up to `capacity` bytes (see copyOf). */
  constructor(capacity: number) {
    this.bytes = new Uint8Array(capacity);
    this.words = new Int32Array(capacity >> 2);
    this.view = wordView(this.bytes);
  }

  /** A fixed run: these characters (Latin-1). */
  static of(text: string): ByteRun {
    const run = new ByteRun(text.length);
    run.copyOf(Buffer.from(text, "latin1"), 0, text.length);
    return run;
  }

  /** The run as text, for messages. */
  get text(): string {
    return Buffer.from(this.bytes.subarray(0, this.length)).toString("latin1");
  }

  /** Makes the run bytes[start, start + length) (at most its capacity). */
  copyOf(bytes: Uint8Array, start: number, length: number): void {
    this.bytes.set(bytes.subarray(start, start + length));
    this.length = length;
    for (let i = 0; i < length >> 2; i++) this.words[i] = this.view.getInt32(4 * i, true);
  }

  /** Whether bytes[at, end) starts with this run; `view` is wordView(bytes). */
  matchesAt(view: DataView, bytes: Uint8Array, at: number, end: number): boolean {
    const length = this.length;
    if (at + length > end) return false;
    const words = this.words;
    const whole = length >> 2;
    for (let i = 0; i < whole; i++) if (view.getInt32(at + 4 * i, true) !== words[i]) return false;
    for (let i = 4 * whole; i < length; i++) if (bytes[at + i] !== this.bytes[i]) return false;
    return true;
  }
}
