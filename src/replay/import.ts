import { closeSync, createReadStream, createWriteStream, openSync, writeSync } from "node:fs";
import { pipeline } from "node:stream/promises";
import { CoropoolError, InputError } from "../errors.js";
import { writeOutputFile, type OutputRequest, type OutputScratch } from "../output-file.js";
import { decodeInput, type DecodedInput } from "./input-format.js";
import { inputName, type LogInput, type ReadProgress } from "./line-source.js";
import { MICROS_PER_SECOND, NO_TIME, type PoolEventSink } from "./pool-events.js";

export interface ImportOptions {
  /** The pool size increase the log's devices made (the log does not record it). */
  poolIncrease?: number;
  source?: string;
  /** How the output is named in messages (`-o`) and the files it may never be (the log is always one). */
  flag?: string;
  inputs?: readonly string[];
  /** Stops the import between two chunks of the log: nothing is written, no temporary file is left. */
  signal?: AbortSignal;
  /** Told how much of the log is read (see ReadProgress). */
  onProgress?: ReadProgress;
}

export interface ImportSummary {
  input: DecodedInput;
  /** Event lines written (inc, create, terminate). */
  events: number;
  threads: number;
  /** False when the signal stopped the import: the output is as it was. */
  written: boolean;
}

/**
 * Writes the coropool trace equivalent to a QEMU log (`coropool import LOG -o
 * FILE`): the same pool events, a `threads` line, the pool increase as an
 * `inc`, each event with its time when the log has times. Replaying the file
 * gives the same result as replaying the log, but for the line numbers.
 *
 * Coroutines are named c<id>, ids reused once a coroutine terminated, as QEMU
 * reuses addresses. The thread count is known only at the end, so the events
 * go to a scratch file beside the output first, then after the header.
 * `outPath` is written by the rule of every output (../output-file.ts): whole
 * or not at all, through a symlink, never over the log.
 */
export async function importQemuLog(input: LogInput, outPath: string, options: ImportOptions = {}): Promise<ImportSummary> {
  const source = options.source ?? inputName(input);
  const logFile = "path" in input ? [input.path] : [];
  const request: OutputRequest = { flag: options.flag ?? "output", value: outPath, inputs: [...logFile, ...(options.inputs ?? [])] };
  let summary: ImportSummary | undefined;
  await writeOutputFile(outPath, request, async (scratch) => {
    summary = await writeTrace(input, scratch, source, options);
    return summary.written;
  });
  return summary!;
}

async function writeTrace(input: LogInput, scratch: OutputScratch, source: string, options: ImportOptions): Promise<ImportSummary> {
  const bodyPath = scratch.scratch("events");
  const body = new TraceWriter(openSync(bodyPath, "wx"));
  let decoded: DecodedInput;
  try {
    decoded = await decodeInput(input, body, { source, poolIncrease: options.poolIncrease ?? 0, signal: options.signal, onProgress: options.onProgress });
  } catch (err) {
    // The log's own error is the one to report, not a write of lines that no longer matter.
    body.discard();
    throw err;
  }
  body.close();
  const summary = { input: decoded, events: body.events, threads: Math.max(1, body.threads), written: !decoded.stopped };
  if (decoded.stopped) return summary;
  if (decoded.qemu === null) throw new InputError("ERR_TRACE", `${source}: already a coropool trace, not a QEMU log; replay it as it is`);
  const header = new TraceWriter(openSync(scratch.temporary, "wx"));
  try {
    header.writeHeader(source, decoded, body.threads);
  } finally {
    header.close();
  }
  await pipeline(createReadStream(bodyPath), createWriteStream(scratch.temporary, { flags: "a" }));
  return summary;
}

/** Lines are gathered and written 64 KiB at a time. */
const FLUSH_CHARS = 1 << 16;

/** A sink that writes each event as a trace line. */
class TraceWriter implements PoolEventSink {
  private pending = "";
  private fd: number;
  threads = 0;
  events = 0;

  constructor(fd: number) {
    this.fd = fd;
  }

  threadsSeen(count: number): void {
    this.threads = count;
  }
  inc(amount: number, _line: number, time: number): void {
    this.event(time, `inc ${amount}`);
  }
  dec(amount: number, _line: number, time: number): void {
    this.event(time, `dec ${amount}`);
  }
  create(thread: number, co: number, _line: number, time: number): void {
    this.event(time, `create T${thread} c${co}`);
  }
  terminate(thread: number, co: number, _line: number, time: number): void {
    this.event(time, `terminate T${thread} c${co}`);
  }
  exit(thread: number, _line: number, time: number): void {
    this.event(time, `exit T${thread}`);
  }

  writeHeader(source: string, decoded: DecodedInput, threads: number): void {
    const qemu = decoded.qemu!;
    this.write(`# coropool trace imported from the QEMU log ${source.replace(/\s+/g, " ")}\n`);
    this.write(`# ${decoded.lines} lines: ${qemu.enters} enters (${qemu.reEnters} of a live coroutine), ${qemu.terminates} terminates, ${qemu.otherEvents} other events\n`);
    this.write(`# threads are ${qemu.threadsAre}: ${qemu.threads.map((label, t) => `T${t} = ${label}`).join(", ") || "none"}\n`);
    if (qemu.note !== null) this.write(`# note: ${qemu.note}\n`);
    this.write(`# pool increase from the devices: ${qemu.poolIncrease}\n`);
    this.write(`threads ${Math.max(1, threads)}\n`);
  }

  /** Closes the file without writing what is pending. */
  discard(): void {
    this.pending = "";
    this.close();
  }

  /** Writes what is pending and closes the file; closed even when that write fails. */
  close(): void {
    if (this.fd < 0) return;
    try {
      this.flush();
    } finally {
      closeSync(this.fd);
      this.fd = -1;
    }
  }

  private event(time: number, text: string): void {
    this.events++;
    this.write(time === NO_TIME ? `${text}\n` : `@${formatTime(time)} ${text}\n`);
  }

  private write(text: string): void {
    this.pending += text;
    if (this.pending.length >= FLUSH_CHARS) this.flush();
  }

  private flush(): void {
    if (this.fd < 0) throw new CoropoolError("ERR_INTERNAL", "trace writer used after close");
    if (this.pending !== "") writeSync(this.fd, this.pending);
    this.pending = "";
  }
}

/** Microseconds as the trace's `SECONDS.MICROSECONDS`, exactly. */
export function formatTime(micros: number): string {
  const seconds = Math.floor(micros / MICROS_PER_SECOND);
  return `${seconds}.${String(micros - seconds * MICROS_PER_SECOND).padStart(6, "0")}`;
}
