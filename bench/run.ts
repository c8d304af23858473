/**
 * npm run bench            every suite, written to bench/RESULTS.md
 * npm run bench -- NAME    one suite (micro, pool, mutex, stacks, randread, figures, import, elastic)
 * --quick                  tiny budgets (the smoke test); --no-write leaves RESULTS.md alone
 */
import type { BenchSettings } from "./measure.js";
import { writeSection } from "./results-file.js";
import { runElastic } from "./suites/elastic.js";
import { runFigures } from "./suites/figures.js";
import { runImport } from "./suites/import.js";
import { runMicro } from "./suites/micro.js";
import { runMutex } from "./suites/mutex.js";
import { runPool } from "./suites/pool.js";
import { runRandreadTable } from "./suites/randread.js";
import { runStacks } from "./suites/stacks.js";

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
};

export async function runBench(argv: string[]): Promise<number> {
  const quick = argv.includes("--quick");
  const write = !argv.includes("--no-write") && !quick;
  const names = argv.filter((a) => !a.startsWith("--"));
  const unknown = names.filter((n) => !(n in SUITES));
  if (unknown.length > 0) {
    process.stderr.write(`bench: unknown suite '${unknown[0]}'; allowed: ${Object.keys(SUITES).join(", ")}\n`);
    return 2;
  }
  for (const name of names.length > 0 ? names : Object.keys(SUITES)) {
    const suite = SUITES[name]!;
    process.stderr.write(`bench: ${name}...\n`);
    const { markdown } = await suite.run({ quick });
    process.stdout.write(`\n## ${suite.title}\n\n${markdown}\n`);
    if (write) writeSection(name, suite.title, `npm run bench -- ${name}`, markdown);
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
