import { spawnSync } from "node:child_process";
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGunzip, gunzipSync, gzipSync } from "node:zlib";
import { projectRoot } from "../../src/project-root.js";
import { importQemuLog } from "../../src/replay/import.js";
import { replayTrace } from "../../src/replay/replay.js";
import { replayLog } from "../../src/replay/replay-log.js";
import { parseTrace } from "../../src/replay/trace.js";
import { interleaved, markdownTable, median, type BenchSettings } from "../measure.js";

/** The real QEMU 10.0 log (timestamped, 96k lines), repeated to make a long one. */
const SAMPLE = join(projectRoot(), "test", "fixtures", "qemu-real", "qemu10-virtio-p.trace.log.gz");
const POOL_INCREASE = 1024;
const LIMITS = { maxMapCount: 65530, baselineVmas: 1000 };

const millionsPerSecond = (units: number, ms: number) => (units / ms) * 1e3 / 1e6;
const perSecond = (units: number, ms: number) => `${millionsPerSecond(units, ms).toFixed(2)} M/s`;
/** The target for a QEMU log, end to end: read, inflate, parse, replay legacy. */
const TARGET_LINES_PER_SECOND = 5e6;
const LONGER_TIMES = 5;

/** zlib alone on the log: the ceiling for the gzip row. */
async function inflateOnly(path: string): Promise<number> {
  let bytes = 0;
  const inflating = { chunkSize: 1 << 19, highWaterMark: 1 << 22 };
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 19 }).pipe(createGunzip(inflating))) bytes += (chunk as Buffer).length;
  return bytes;
}

/** The CLI from a fresh process, Node's start and a cold JIT included: wall milliseconds of each run. */
function cliRuns(log: string, runs: number): number[] {
  const bin = join(projectRoot(), "dist", "src", "cli", "bin.js");
  return Array.from({ length: runs }, () => {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [bin, "replay", log, "--policy", "legacy", "--pool-inc", String(POOL_INCREASE), "--json"], { stdio: ["ignore", "ignore", "inherit"] });
    if (r.status !== 0) throw new Error(`coropool replay exited ${r.status}`);
    return performance.now() - t0;
  });
}

/**
 * End to end (read, inflate, parse, replay legacy) on a long real QEMU log,
 * and the coropool trace it imports to, replayed the old way (whole file
 * read, split, parsed to an array, then replayed) and the streaming way.
 */
export async function runImport(settings: BenchSettings): Promise<{ markdown: string }> {
  const copies = settings.quick ? 1 : 40;
  const rounds = settings.quick ? 1 : 3;
  const dir = mkdtempSync(join(tmpdir(), "coropool-bench-import-"));
  try {
    const text = gunzipSync(readFileSync(SAMPLE));
    const log = join(dir, "long.trace.log.gz");
    writeFileSync(log, gzipSync(Buffer.concat(Array.from({ length: copies }, () => text)), { level: 6 }));
    const plain = join(dir, "long.trace.log");
    writeFileSync(plain, Buffer.concat(Array.from({ length: copies }, () => text)));
    const trace = join(dir, "long.trace");
    await importQemuLog({ path: log }, trace, { poolIncrease: POOL_INCREASE });

    const options = { ...LIMITS, policies: [{ policy: "legacy" as const }], poolIncrease: POOL_INCREASE };
    const lines = text.toString("latin1").split("\n").length - 1;
    // Two groups, the logs first: the old trace path's millions of objects would weigh on whatever ran after it.
    const logs = await interleaved(rounds, [
      { name: "QEMU log (gzip): read, inflate, parse, replay legacy", run: async () => (await replayLog({ path: log }, options)).input.lines },
      { name: "QEMU log (plain text): read, parse, replay legacy", run: async () => (await replayLog({ path: plain }, options)).input.lines },
      { name: "the same gzip, inflated only (zlib's own speed: the ceiling)", run: async () => ((await inflateOnly(log)), lines * copies) },
    ]);
    const traces = await interleaved(rounds, [
      { name: "coropool trace, streamed (replayLog)", run: async () => (await replayLog({ path: trace }, options)).outcomes[0]!.result.events },
      {
        name: "coropool trace, as before (readFileSync + parseTrace + replayTrace)",
        run: async () => replayTrace(parseTrace(readFileSync(trace, "utf8")), { policy: "legacy", ...LIMITS }).result.events,
      },
    ]);
    const results = [...logs, ...traces];
    const rows = results.map((r, i) => [r.name, r.units, i < 3 ? "lines" : "events", `${r.wallMs.toFixed(0)} ms`, perSecond(r.units, r.wallMs), `${r.cpuMs.toFixed(0)} ms`, perSecond(r.units, r.cpuMs)]);
    // Five gzip members back to back are one valid gzip file, 5 times as long: long enough that Node's start is a small part.
    const longer = join(dir, "longer.trace.log.gz");
    writeFileSync(longer, Buffer.concat(Array.from({ length: LONGER_TIMES }, () => readFileSync(log))));
    const cli = median(cliRuns(longer, rounds));
    const longerLines = LONGER_TIMES * results[0]!.units;
    rows.push([`the gzip ${LONGER_TIMES} times over through \`coropool replay --json\`, a fresh process each time (Node's start and a cold JIT included)`, longerLines, "lines", `${cli.toFixed(0)} ms`, perSecond(longerLines, cli), "", ""]);
    const speedup = results[4]!.wallMs / results[3]!.wallMs;
    const gzip = millionsPerSecond(results[0]!.units, results[0]!.wallMs);
    const verdict = gzip * 1e6 >= TARGET_LINES_PER_SECOND ? "**met**" : "**not met**";
    return {
      markdown: [
        `The real QEMU 10.0 log qemu10-virtio-p (96,001 lines, with times) repeated ${copies} times, gzip (level 6) and plain, and the coropool trace \`coropool import\` makes of it.`,
        `Medians of ${rounds} interleaved rounds in one process after one uncounted round (the JIT's warm-up), the three log rows together, then the two trace rows; CPU time is the process's (zlib inflates on a pool thread, beside the parser).`,
        "",
        markdownTable(["input", "count", "of", "wall", "per second (wall)", "CPU", "per CPU second"], rows),
        "",
        `The target of ${TARGET_LINES_PER_SECOND / 1e6} M QEMU log lines a second end to end (gzip, read, inflate, parse, replay legacy): ${verdict}, ${gzip.toFixed(2)} M/s warm.`,
        `From the command line, start to end, on the ${(longerLines / 1e6).toFixed(1)} M-line log: ${perSecond(longerLines, cli)}.`,
        `The streamed trace replay against the old path: ${speedup.toFixed(2)}x the speed, and memory bounded by the live coroutines instead of the file.`,
      ].join("\n"),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
