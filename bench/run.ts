/**
 * npm run bench            every suite, written to bench/RESULTS.md
 * npm run bench -- NAME    one suite (micro, pool, mutex, stacks, randread, figures, import, elastic, watch)
 * npm run bench -- against DIST
 *                          the same-thread lifecycle of every policy, this build against the
 *                          older one in DIST (its dist folder), side by side in one process
 * --quick                  tiny budgets (the smoke test); --no-write leaves RESULTS.md alone
 */
import type { BenchSettings } from "./measure.js";
import { writeSection } from "./results-file.js";
import { olderBuildProblem, runAgainst } from "./suites/against.js";
import { runElastic } from "./suites/elastic.js";
import { runFigures } from "./suites/figures.js";
import { runImport } from "./suites/import.js";
import { runMicro } from "./suites/micro.js";
import { runMutex } from "./suites/mutex.js";
import { runPool } from "./suites/pool.js";
import { runRandreadTable } from "./suites/randread.js";
import { runStacks } from "./suites/stacks.js";
import { runWatch } from "./suites/watch.js";

export interface Suite {
  title: string;
  run: (settings: BenchSettings) => Promise<{ markdown: string }>;
}

export const SUITES: Record<string, Suite> = {
  micro: { title: "Coroutine micro benchmarks (QEMU test-coroutine perf analogs)", run: runMicro },
  pool: { title: "Pool get + put fast path", run: runPool },
  mutex: { title: "Global-pool mutex", run: runMutex },
  stacks: { title: "Stack map + unmap per backend", run: runStacks },
  randread: { title: "randread: the seed's table, OLD (legacy) vs NEW (batched)", run: runRandreadTable },
  figures: { title: "Imbalance and exhaustion figures", run: runFigures },
  import: { title: "Replay speed: real QEMU logs and coropool traces", run: runImport },
  elastic: { title: "Beyond 9.0: elastic against legacy, batched and batched --uncapped", run: runElastic },
  watch: { title: "Watch: a snapshot against cat on the same maps files, and a watch's CPU", run: runWatch },
};

/** The suite that takes an argument, the older build's dist folder; never part of "every suite". */
const AGAINST = { name: "against", title: "Same-thread lifecycle: this build against an older one" };

export async function runBench(argv: string[]): Promise<number> {
  const quick = argv.includes("--quick");
  const write = !argv.includes("--no-write") && !quick;
  const words = argv.filter((a) => !a.startsWith("--"));
  const at = words.indexOf(AGAINST.name);
  const olderDist = at === -1 ? null : words[at + 1];
  if (olderDist === undefined) {
    process.stderr.write(`bench: against needs a folder; allowed: against DIST, DIST an older build's dist folder\n`);
    return 2;
  }
  const names = at === -1 ? words : words.filter((_, i) => i !== at && i !== at + 1);
  const unknown = names.filter((n) => !(n in SUITES));
  if (unknown.length > 0) {
    process.stderr.write(`bench: unknown suite '${unknown[0]}'; allowed: ${Object.keys(SUITES).join(", ")}, ${AGAINST.name} DIST\n`);
    return 2;
  }
  const problem = olderDist === null ? null : olderBuildProblem(olderDist);
  if (problem !== null) {
    process.stderr.write(`${problem}\n`);
    return 2;
  }
  const runs: { name: string; title: string; command: string; run: (settings: BenchSettings) => Promise<{ markdown: string }> }[] = [];
  for (const name of names.length > 0 || olderDist !== null ? names : Object.keys(SUITES)) {
    runs.push({ name, title: SUITES[name]!.title, command: `npm run bench -- ${name}`, run: SUITES[name]!.run });
  }
  if (olderDist !== null) {
    runs.push({ ...AGAINST, command: `npm run bench -- against ${olderDist}`, run: (settings) => runAgainst(settings, olderDist) });
  }
  for (const suite of runs) {
    process.stderr.write(`bench: ${suite.name}...\n`);
    const { markdown } = await suite.run({ quick });
    process.stdout.write(`\n## ${suite.title}\n\n${markdown}\n`);
    if (write) writeSection(suite.name, suite.title, suite.command, markdown);
  }
  return 0;
}

const isMain = process.argv[1]?.endsWith("run.js") === true;
if (isMain) {
  runBench(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      process.stderr.write(`bench: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
