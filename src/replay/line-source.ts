import { createReadStream, statSync } from "node:fs";
import { open } from "node:fs/promises";
import { createGunzip } from "node:zlib";
import { InputError } from "../errors.js";
import { inputFileProblem } from "../input-file.js";
import { NEWLINE } from "./byte-scan.js";
import type { PoolEventSink } from "./pool-events.js";

/**
 * What a replay or an import reads: a file (plain or gzip, told by its first
 * bytes, not its name), text already in memory, any iterable of lines, or a
 * trace's events held by the program that made them (plan's schedule, which
 * feeds them as its text would, line numbers included, without the text).
 */
export type LogInput = { path: string } | { text: string } | { lines: Iterable<string> | AsyncIterable<string> } | { events: TraceEvents };

/** A coropool trace's events, fed straight to a sink, as often as asked. */
export interface TraceEvents {
  /** The name messages give it. */
  readonly name: string;
  /** Feeds every event, in order, with the line each has in the trace's text; returns what a decoder would have found. */
  feed(sink: PoolEventSink): { lines: number; maxLive: number; creates: number };
}

/** The name an input goes by in messages. */
export function inputName(input: LogInput): string {
  if ("path" in input) return input.path;
  if ("events" in input) return input.events.name;
  return "text" in input ? "text" : "lines";
}

/** gzip's magic bytes (RFC 1952): 1f 8b. */
const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;
/**
 * Read and inflate half a megabyte at a time: zlib inflates on libuv's thread
 * pool, so the next chunks are being inflated while this thread parses the
 * last one; big chunks keep the hand-offs between the two rare.
 */
const CHUNK_BYTES = 1 << 19;
/** Inflated chunks zlib may hold ready before it waits for the parser: enough that it rarely waits. */
const CHUNKS_AHEAD = 8;

/**
 * How far the reading of an input is, told after each chunk: for a file, the
 * bytes read of its size (of the file as stored: a gzip file's compressed
 * bytes); for a text, its bytes; for lines, the lines so far (total unknown).
 */
export type ReadProgress = (done: number, total: number | undefined) => void;

/** Lines given one by one are counted as progress this many at a time. */
const LINES_PER_PROGRESS = 1 << 16;

/**
 * The input as a sequence of byte chunks (text is UTF-8). A line may be cut
 * between two chunks (LineSplitter joins it); only one chunk is held at a
 * time, so memory does not grow with the input. Bytes, not strings: a parser
 * reads them in place, and "\n" never occurs inside a UTF-8 character, so
 * every line can be decoded on its own.
 */
export async function* byteChunks(input: Exclude<LogInput, { events: TraceEvents }>, progress?: ReadProgress): AsyncGenerator<Buffer> {
  if ("text" in input) {
    const bytes = Buffer.from(input.text, "utf8");
    yield bytes;
    progress?.(bytes.length, bytes.length);
  } else if ("lines" in input) {
    let lines = 0;
    for await (const line of input.lines) {
      yield Buffer.from(line + "\n", "utf8");
      if (++lines % LINES_PER_PROGRESS === 0) progress?.(lines, undefined);
    }
    progress?.(lines, undefined);
  } else {
    yield* fileChunks(input.path, progress);
  }
}

async function* fileChunks(path: string, progress?: ReadProgress): AsyncGenerator<Buffer> {
  // Stat first: opening a FIFO with no writer would block, and a device never ends.
  const problem = inputFileProblem(path);
  if (problem !== null) throw new InputError("ERR_TRACE", `cannot read trace '${path}': ${problem}; give the path of a trace or log file`);
  const gzip = await startsWithGzipMagic(path);
  const file = createReadStream(path, { highWaterMark: CHUNK_BYTES });
  // highWaterMark is the stream's own option, which @types/node's ZlibOptions leaves out.
  const inflating = { chunkSize: CHUNK_BYTES, highWaterMark: CHUNKS_AHEAD * CHUNK_BYTES };
  const bytes = gzip ? file.pipe(createGunzip(inflating)) : file;
  if (gzip) file.on("error", (err) => bytes.destroy(err));
  const size = progress === undefined ? 0 : statSync(path).size;
  try {
    for await (const chunk of bytes as AsyncIterable<Buffer>) {
      yield chunk;
      progress?.(file.bytesRead, size);
    }
  } catch (err) {
    throw readError(path, err, gzip);
  }
}

async function startsWithGzipMagic(path: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, "r");
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === GZIP_MAGIC_0 && head[1] === GZIP_MAGIC_1;
  } catch (err) {
    throw readError(path, err, false);
  } finally {
    await handle?.close();
  }
}

function readError(path: string, err: unknown, gzip: boolean): InputError {
  const code = (err as NodeJS.ErrnoException).code ?? "unknown error";
  if (gzip && typeof code === "string" && code.startsWith("Z_")) {
    return new InputError("ERR_TRACE", `cannot read '${path}': it starts like gzip but does not inflate (${code}); give a whole .gz file or the plain text`);
  }
  return new InputError("ERR_TRACE", `cannot read trace '${path}': ${code}; give the path of a readable trace file`);
}

/**
 * Receives whole lines in a block: bytes[start, end) holds complete lines,
 * each ended by "\n" except perhaps the last (the end of the input), the
 * first of them numbered `firstLine`. Returns how many lines it held. A parser
 * that walks a block itself saves a call and a native indexOf per line.
 */
export type BlockHandler = (bytes: Buffer, start: number, end: number, firstLine: number) => number;

/** Lines longer than this are refused, so that a file without newlines cannot fill the memory. */
export const MAX_LINE_BYTES = 1 << 20;

/**
 * Cuts byte chunks into blocks of whole lines ("\n" ends a line; a final
 * newline does not start another) and hands them on in place, without
 * copying, except a line cut between two chunks, which is joined first.
 */
export class LineSplitter {
  private carry: Buffer | null = null;
  /** Lines handed on so far. */
  lines = 0;

  constructor(
    private readonly source: string,
    private handler: BlockHandler,
  ) {}

  /** Hands the rest of the input to another handler (once the format is known). */
  handOver(handler: BlockHandler): void {
    this.handler = handler;
  }

  feed(chunk: Buffer): void {
    let start = 0;
    if (this.carry !== null) {
      const nl = chunk.indexOf(NEWLINE);
      if (nl === -1) return this.keep(Buffer.concat([this.carry, chunk]));
      const joined = Buffer.concat([this.carry, chunk.subarray(0, nl + 1)]);
      if (joined.length - 1 > MAX_LINE_BYTES) this.refuseLongLine();
      this.carry = null;
      this.lines += this.handler(joined, 0, joined.length, this.lines + 1);
      start = nl + 1;
    }
    const last = chunk.lastIndexOf(NEWLINE);
    if (last >= start) {
      this.lines += this.handler(chunk, start, last + 1, this.lines + 1);
      start = last + 1;
    }
    if (start < chunk.length) this.keep(Buffer.from(chunk.subarray(start)));
  }

  /** The input ended: a last line without a newline is still a line. */
  end(): void {
    if (this.carry === null) return;
    const last = this.carry;
    this.carry = null;
    this.lines += this.handler(last, 0, last.length, this.lines + 1);
  }

  private keep(partial: Buffer): void {
    if (partial.length > MAX_LINE_BYTES) this.refuseLongLine();
    this.carry = partial;
  }

  /** The line being joined is past the limit: memory stays bounded whatever is read. */
  private refuseLongLine(): never {
    throw new InputError("ERR_TRACE", `${this.source}:${this.lines + 1}: a line longer than ${MAX_LINE_BYTES} bytes; a trace or log has short lines`);
  }
}
