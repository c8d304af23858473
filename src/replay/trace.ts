import { InputError } from "../errors.js";
import { shownText } from "../message-text.js";

/** One executable line of a trace, with its 1-based line number in the file. */
export type TraceEvent =
  | { kind: "inc" | "dec"; line: number; amount: number }
  | { kind: "create" | "terminate"; line: number; thread: number; name: string }
  | { kind: "exit"; line: number; thread: number };

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

/**
 * Parses and checks a whole trace before anything runs, so bad input is
 * reported (exit 2) without a half-done replay. Liveness does not depend on
 * the policy, so "terminate of a coroutine that is not live" is found here too.
 */
export function parseTrace(text: string, source = "trace"): Trace {
  const parser = new TraceParser(source);
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) parser.parseLine(lines[i]!, i + 1);
  // A final newline ends the last line; it does not start another.
  const lastLine = Math.max(1, text.endsWith("\n") ? lines.length - 1 : lines.length);
  return parser.finish(lastLine);
}

class TraceParser {
  private threads = 0;
  private readonly events: TraceEvent[] = [];
  private readonly live = new Set<string>();
  private maxLive = 0;
  private creates = 0;

  constructor(private readonly source: string) {}

  parseLine(raw: string, line: number): void {
    const hash = raw.indexOf("#");
    const words = (hash === -1 ? raw : raw.slice(0, hash)).trim().split(/\s+/).filter((w) => w !== "");
    if (words.length === 0) return;
    const [kind, ...args] = words as [string, ...string[]];
    if (kind === "threads") return this.parseThreads(args, line);
    if (this.threads === 0) {
      throw this.error(line, `'${shown(kind)}' before the 'threads N' line; the first event line must be 'threads N'`);
    }
    switch (kind) {
      case "inc":
      case "dec":
        this.expectArgs(kind, args, 1, line, `${kind} K`);
        this.events.push({ kind, line, amount: this.parseU32(args[0]!, line, kind) });
        return;
      case "create":
      case "terminate":
        this.expectArgs(kind, args, 2, line, `${kind} T<i> <name>`);
        return this.parseCoroutineEvent(kind, this.parseThread(args[0]!, line), args[1]!, line);
      case "exit":
        this.expectArgs(kind, args, 1, line, "exit T<i>");
        this.events.push({ kind, line, thread: this.parseThread(args[0]!, line) });
        return;
      default:
        throw this.error(line, `unknown event '${shown(kind)}'; allowed: threads, inc, dec, create, terminate, exit`);
    }
  }

  /** `lastLine`: the file's last line, where a missing 'threads' line is reported. */
  finish(lastLine: number): Trace {
    if (this.threads === 0) throw this.error(lastLine, "no 'threads N' line up to the end of the file; a trace must declare its threads first");
    return { threads: this.threads, events: this.events, maxLive: this.maxLive, creates: this.creates };
  }

  private parseThreads(args: string[], line: number): void {
    if (this.threads !== 0) throw this.error(line, "'threads' given again; it must appear exactly once");
    this.expectArgs("threads", args, 1, line, "threads N");
    const n = /^\d+$/.test(args[0]!) ? Number(args[0]) : NaN;
    if (!(n >= 1 && n <= MAX_TRACE_THREADS)) {
      throw this.error(line, `bad thread count '${shown(args[0]!)}'; allowed: an integer from 1 to ${MAX_TRACE_THREADS}`);
    }
    this.threads = n;
  }

  private parseCoroutineEvent(kind: "create" | "terminate", thread: number, name: string, line: number): void {
    if (kind === "create") {
      if (this.live.has(name)) throw this.error(line, `create of '${shown(name)}', which is already live; a name may be reused only after its terminate`);
      this.live.add(name);
      this.creates++;
      this.maxLive = Math.max(this.maxLive, this.live.size);
    } else {
      if (!this.live.delete(name)) throw this.error(line, `terminate of '${shown(name)}', which is not live; terminate only a coroutine that was created and not yet terminated`);
    }
    this.events.push({ kind, line, thread, name });
  }

  private parseThread(word: string, line: number): number {
    const m = /^T(\d+)$/.exec(word);
    const t = m ? Number(m[1]) : NaN;
    if (!(t >= 0 && t < this.threads)) {
      throw this.error(line, `bad thread '${shown(word)}'; allowed: T0 to T${this.threads - 1}`);
    }
    return t;
  }

  private parseU32(word: string, line: number, kind: string): number {
    const n = /^\d+$/.test(word) ? Number(word) : NaN;
    if (!(n >= 0 && n <= U32_MAX)) {
      throw this.error(line, `bad amount '${shown(word)}' for ${kind}; allowed: an integer from 0 to ${U32_MAX}`);
    }
    return n;
  }

  private expectArgs(kind: string, args: string[], n: number, line: number, usage: string): void {
    if (args.length !== n) throw this.error(line, `'${kind}' takes ${n} argument${n === 1 ? "" : "s"} (${usage}), got ${args.length}`);
  }

  private error(line: number, message: string): InputError {
    return new InputError("ERR_TRACE", `${this.source}:${line}: ${message}`);
  }
}

/** Trace words are whitespace-free but may hold other control characters, or be very long. */
const MAX_SHOWN_CHARS = 60;

function shown(word: string): string {
  return shownText(word, MAX_SHOWN_CHARS);
}
