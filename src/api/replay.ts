/**
 * replay(): a trace of pool events replayed deterministically under each
 * policy, the results exactly those `coropool replay --json` prints.
 */
import { readFileSync } from "node:fs";
import { inputFileProblem } from "../input-file.js";
import { MAX_LINE_BYTES } from "../replay/line-source.js";
import { CoropoolError, InputError } from "../errors.js";
import { BUNDLED_TRACES, bundledOrPath } from "../experiments/bundled.js";
import { checkRegion, type PolicyName } from "../pools/index.js";
import { replayTrace, type ReplayOutcome, type ReplayResult } from "../replay/replay.js";
import { parseTrace } from "../replay/trace.js";
import { defaultBaselineVmas, readMaxMapCount } from "../vma/limits.js";

export interface ReplayOptions {
  /** The policies to replay under, each in turn (required, as for the CLI). */
  policies: PolicyName[];
  /** The VMA limit; default: this host's vm.max_map_count (65530 if unreadable). */
  maxMapCount?: number;
  /** VMAs the rest of the process uses; default: this process's /proc/self/maps. */
  baselineVmas?: number;
  /** batched: no hard cap from max_map_count (QEMU's practical behaviour on Linux). */
  uncapped?: boolean;
  /** Walk each replay's region with the invariant checker at the end; a violation throws ERR_INVARIANT. */
  check?: boolean;
}

/** What replay() and `coropool replay` can take as a trace. */
export type TraceInput = string | Iterable<string> | AsyncIterable<string>;

/**
 * Replays `trace` — a bundled trace's name, a path, or the trace's lines (an
 * iterable or async iterable of strings) — once per policy. Bad input is an
 * InputError naming the line.
 */
export async function replay(trace: TraceInput, options: ReplayOptions): Promise<ReplayResult[]> {
  return (await replayOutcomes(trace, options)).outcomes.map((o) => o.result);
}

/** The replays with what the JSON has no key for (the CLI's summary shows it), and the trace's source. */
export async function replayOutcomes(trace: TraceInput, options: ReplayOptions): Promise<{ source: string; outcomes: ReplayOutcome[] }> {
  const { text, source } = await traceText(trace);
  const parsed = parseTrace(text, source);
  const maxMapCount = options.maxMapCount ?? readMaxMapCount().value;
  const baselineVmas = options.baselineVmas ?? defaultBaselineVmas().value;
  const outcomes = options.policies.map((policy) => replayTrace(parsed, { policy, maxMapCount, baselineVmas, uncapped: options.uncapped === true }));
  if (options.check) {
    const violations = outcomes.flatMap((o) => checkRegion(o.region, o.result.live).violations.map((v) => `${o.result.policy}: ${v}`));
    if (violations.length > 0) {
      throw new CoropoolError("ERR_INVARIANT", `the invariant checker found ${violations.length} violation(s): ${violations.join("; ")}`);
    }
  }
  return { source, outcomes };
}

/** Refuses a line longer than the streamed reader allows (MAX_LINE_BYTES), naming it: a trace has short lines. */
function checkLineLengths(text: string, file: string): void {
  for (let start = 0, line = 1; start < text.length; line++) {
    const nl = text.indexOf("\n", start);
    const end = nl === -1 ? text.length : nl;
    if (end - start > MAX_LINE_BYTES) throw new InputError("ERR_TRACE", `${file}:${line}: a line longer than ${MAX_LINE_BYTES} bytes; a trace or log has short lines`);
    start = end + 1;
  }
}

/** A trace replayed from a path is read whole: at most this many bytes. */
export const MAX_TRACE_FILE_BYTES = 256 << 20;

async function traceText(trace: TraceInput): Promise<{ text: string; source: string }> {
  if (typeof trace === "string") {
    const file = bundledOrPath(BUNDLED_TRACES, trace, "replay");
    // Read whole: only a regular file, and only up to the limit (a FIFO would block, a device never end).
    const problem = inputFileProblem(file, MAX_TRACE_FILE_BYTES);
    if (problem !== null) throw new InputError("ERR_TRACE", `cannot read trace '${file}': ${problem}; give the path of a trace file of at most 256 MiB`);
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "unknown error";
      throw new InputError("ERR_TRACE", `cannot read trace '${file}': ${code}; give the path of a readable trace file`);
    }
    checkLineLengths(text, file);
    return { text, source: file };
  }
  const lines: string[] = [];
  for await (const line of trace) lines.push(line);
  return { text: lines.join("\n"), source: "trace" };
}
