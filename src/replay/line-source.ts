import { isAscii } from "node:buffer";
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { StringDecoder } from "node:string_decoder";
import { createGunzip } from "node:zlib";
import { InputError } from "../errors.js";

/**
 * What a replay or an import reads: a file (plain or gzip, told by its first
 * bytes, not its name), text already in memory, or any iterable of lines.
 */
export type LogInput = { path: string } | { text: string } | { lines: Iterable<string> | AsyncIterable<string> };

/** The name an input goes by in messages. */
export function inputName(input: LogInput): string {
  if ("path" in input) return input.path;
  return "text" in input ? "text" : "lines";
}

/** gzip's magic bytes (RFC 1952): 1f 8b. */
const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;
/**
 * Read and inflate a megabyte at a time: zlib inflates on libuv's thread pool,
 * so the next chunk is being inflated while this thread parses the last one;
 * big chunks keep the hand-offs between the two rare.
 */
const CHUNK_BYTES = 1 << 20;

/**
 * The input as a sequence of text chunks. A line may be cut between two
 * chunks (LineSplitter joins it); only one chunk is held at a time, so memory
 * does not grow with the input.
 */
export async function* textChunks(input: LogInput): AsyncGenerator<string> {
  if ("text" in input) {
    yield input.text;
  } else if ("lines" in input) {
    for await (const line of input.lines) yield line + "\n";
  } else {
    yield* fileChunks(input.path);
  }
}

async function* fileChunks(path: string): AsyncGenerator<string> {
  const gzip = await startsWithGzipMagic(path);
  const file = createReadStream(path, { highWaterMark: CHUNK_BYTES });
  const bytes = gzip ? file.pipe(createGunzip({ chunkSize: CHUNK_BYTES })) : file;
  if (gzip) file.on("error", (err) => bytes.destroy(err));
  const decoder = new AsciiFirstDecoder();
  try {
    for await (const chunk of bytes as AsyncIterable<Buffer>) yield decoder.write(chunk);
  } catch (err) {
    throw readError(path, err, gzip);
  }
  const rest = decoder.end();
  if (rest !== "") yield rest;
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
 * UTF-8 to text. An all-ASCII chunk (every QEMU log) is copied byte for byte,
 * several times faster than the UTF-8 decoder; from the first chunk that is
 * not ASCII on, the decoder takes over, since a character may then be cut
 * between two chunks.
 */
class AsciiFirstDecoder {
  private utf8: StringDecoder | null = null;

  write(chunk: Buffer): string {
    if (this.utf8 === null && isAscii(chunk)) return chunk.toString("latin1");
    this.utf8 ??= new StringDecoder("utf8");
    return this.utf8.write(chunk);
  }

  end(): string {
    return this.utf8?.end() ?? "";
  }
}

/** Receives each line of an input: the text, where the line starts and ends in it, and its number. */
export type LineHandler = (text: string, start: number, end: number, line: number) => void;

/** Lines longer than this are refused, so that a file without newlines cannot fill the memory. */
export const MAX_LINE_CHARS = 1 << 20;

/**
 * Cuts text chunks into lines ("\n" ends a line; a final newline does not
 * start another) and hands each one on in place, without copying it, except
 * a line cut between two chunks, which is joined first.
 */
export class LineSplitter {
  private carry = "";
  /** Lines handed on so far. */
  lines = 0;

  constructor(
    private readonly source: string,
    private handler: LineHandler,
  ) {}

  /** Hands the rest of the input to another handler (once the format is known). */
  handOver(handler: LineHandler): void {
    this.handler = handler;
  }

  feed(chunk: string): void {
    let start = 0;
    let nl = chunk.indexOf("\n");
    if (this.carry !== "") {
      if (nl === -1) return this.keep(this.carry + chunk);
      const joined = this.carry + chunk.slice(0, nl);
      this.carry = "";
      this.handler(joined, 0, joined.length, ++this.lines);
      start = nl + 1;
      nl = chunk.indexOf("\n", start);
    }
    const handler = this.handler;
    let line = this.lines;
    while (nl !== -1) {
      handler(chunk, start, nl, ++line);
      // The handler may hand the rest over to another one.
      if (this.handler !== handler) {
        this.lines = line;
        return this.feed(chunk.slice(nl + 1));
      }
      start = nl + 1;
      nl = chunk.indexOf("\n", start);
    }
    this.lines = line;
    if (start < chunk.length) this.keep(chunk.slice(start));
  }

  /** The input ended: a last line without a newline is still a line. */
  end(): void {
    if (this.carry === "") return;
    const last = this.carry;
    this.carry = "";
    this.handler(last, 0, last.length, ++this.lines);
  }

  private keep(partial: string): void {
    if (partial.length > MAX_LINE_CHARS) {
      throw new InputError("ERR_TRACE", `${this.source}:${this.lines + 1}: a line longer than ${MAX_LINE_CHARS} characters; a trace or log has short lines`);
    }
    this.carry = partial;
  }
}
