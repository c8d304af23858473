import { runDemo } from "../../experiments/demo.js";
import { demoDocument } from "../../report/document.js";
import { vmaChartText } from "../../report/terminal-chart.js";
import { formatDemo } from "../../report/text.js";
import { cliDoor } from "../../options/door.js";
import { resolveRunOptions } from "../../options/doors.js";
import { commandOutput, reportPathFlag } from "../command-output.js";
import { EXIT, runsVerdict, type CommandResult } from "../exit.js";
import { flag, flagHelp, readFlags } from "../flag-table.js";
import { Interrupt } from "../interrupt.js";
import { withProgress } from "../runtime-flags.js";

const DEMO_FLAGS = [flag("json", undefined, "the result as JSON on stdout (schema: docs/json.md)"), flag("maxMapCount", "N", "the VMA limit for part 1 (default: this host's)"), flag("report")];

export const DEMO_HELP = `Usage: coropool demo [--json] [--max-map-count N] [--report FILE.html]

The main job, on real worker threads:
  1. the seed's bug report (4 IOThreads + main loop, two virtio-blk devices of
     64 queues x 256 entries) on this host's vm.max_map_count, under legacy
     and batched: legacy runs out of VMAs and aborts with QEMU's message,
     batched survives;
  2. the imbalance scenario under legacy, batched and none;
  3. a short randread table, OLD (legacy) vs NEW (batched);
  4. beyond 9.0: bursts on two threads, a quiet period, then load on the
     others, under batched and elastic: what each keeps mapped afterwards.
An abort in part 1 is the finding, not a failure: the demo exits 0. On a
terminal, part 1 also draws VMAs over time for each policy. In a checkout of
the repository, 'npm start' runs it and writes reports/demo.html.

Options:
${flagHelp(DEMO_FLAGS)}

Exit status: 0 the demo ran (part 1's abort included); 5 a worker thread died
or a run hit its time limit; 6 the results were printed but the report could
not be written; 2 bad input; 130/143 stopped by SIGINT/SIGTERM (the results so
far printed, the report marked interrupted); 1 internal error, or a run's
stacks were not all accounted for (a bug; it stands over 130/143 and 6).

Examples:
  coropool demo
  coropool demo --max-map-count 65530 --json
  coropool demo --report reports/demo.html`;

export async function demoCommand(argv: string[], interrupt = new Interrupt()): Promise<CommandResult> {
  const flags = readFlags("demo", argv, DEMO_FLAGS, 0);
  if (flags.help) return { stdout: DEMO_HELP, exitCode: EXIT.OK };
  const options = resolveRunOptions(cliDoor("demo"), flags.options);
  const reportPath = reportPathFlag(flags.report);
  const signal = interrupt.stopsGracefully();
  // Each part runs its own policies.
  const demo = await withProgress({ ...options, signal }, flags.json, (o) => runDemo(o));
  const doc = demoDocument(demo.parts);
  const limitSource = demo.hostLimitSource === null ? "--max-map-count" : `this host's vm.max_map_count (${demo.hostLimitSource})`;
  // The picture only for a person at a terminal: piped output stays plain tables.
  const picture = !flags.json && process.stdout.isTTY === true ? vmaChartText(doc.stress.runs) : "";
  // Part 1's abort is the finding, not a failure; a thread that died or timed out anywhere is.
  const runs = [...doc.stress.runs, ...doc.imbalance.runs, ...doc.randread.cells.map((c) => c.run)];
  const verdict = runsVerdict(runs.map((r) => ({ ...r, completed: true })));
  return { ...commandOutput(doc, () => formatDemo(doc, limitSource, picture), flags.json, reportPath, signal), ...verdict };
}
