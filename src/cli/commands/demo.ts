import { join } from "node:path";
import { InputError } from "../../errors.js";
import { projectRoot } from "../../project-root.js";
import type { ImbalanceScenario, RandreadScenario, StressScenario } from "../../scenarios/types.js";
import { loadScenarioFile } from "../../scenarios/validate.js";
import { readMaxMapCount } from "../../vma/limits.js";
import { commandOutput, REPORT_HELP_LINE, REPORT_OPTION, reportPathFlag } from "../../report/command-output.js";
import { demoDocument, type DemoDocument } from "../../report/document.js";
import { vmaChartText } from "../../report/terminal-chart.js";
import { parseCommandArgs } from "../args.js";
import { EXIT, type CommandResult } from "../exit.js";
import { runtimeFlags, type RuntimeFlags } from "../runtime-flags.js";
import { DEFAULT_IMBALANCE_SCENARIO, formatImbalanceReport, runImbalance } from "./imbalance.js";
import { DEFAULT_RANDREAD_SCENARIO, formatRandreadReport, runRandread } from "./randread.js";
import { DEFAULT_STRESS_SCENARIO, formatStressReport, runStress } from "./stress.js";

export const DEMO_HELP = `Usage: coropool demo [--json] [--max-map-count N] [--report FILE.html]

The main job (npm start), on real worker threads:
  1. the seed's bug report (4 IOThreads + main loop, two virtio-blk devices of
     64 queues x 256 entries) on this host's vm.max_map_count, under legacy
     and batched: legacy runs out of VMAs and aborts with QEMU's message,
     batched survives;
  2. the imbalance scenario under legacy, batched and none;
  3. a short randread table, OLD (legacy) vs NEW (batched).
An abort in part 1 is the finding, not a failure: the demo exits 0. On a
terminal, part 1 also draws VMAs over time for each policy.

Options:
  --json                 the result as JSON on stdout (schema: docs/json.md)
  --max-map-count N      the VMA limit for part 1 (default: this host's)
${REPORT_HELP_LINE}

Examples:
  coropool demo
  coropool demo --report reports/demo.html
  npm start              (writes reports/demo.html and prints its path)`;

/** Randread cells kept short so the whole demo stays well under a minute. */
const DEMO_RANDREAD = { iodepths: [1, 16], durationMs: 250 };

export async function demoCommand(argv: string[]): Promise<CommandResult> {
  const { values } = parseCommandArgs("demo", argv, { json: { type: "boolean" }, "max-map-count": { type: "string" }, ...REPORT_OPTION }, 0);
  if (values.help) return { stdout: DEMO_HELP, exitCode: EXIT.OK };
  const flags = runtimeFlags(values, ["legacy", "batched"]);
  const host = readMaxMapCount();
  const maxMapCount = flags.maxMapCount ?? host.value;
  const root = projectRoot();
  const stressFile = join(root, DEFAULT_STRESS_SCENARIO);
  const stress = { ...expectKind<StressScenario>(stressFile, "vma-exhaustion"), maxMapCount };
  const imbalanceFile = join(root, DEFAULT_IMBALANCE_SCENARIO);
  const imbalance = expectKind<ImbalanceScenario>(imbalanceFile, "imbalance");
  const randreadFile = join(root, DEFAULT_RANDREAD_SCENARIO);
  const randread = { ...expectKind<RandreadScenario>(randreadFile, "randread"), ...DEMO_RANDREAD };

  const reportPath = reportPathFlag(values.report);
  const stressReport = await runStress(stressFile, stress, flags);
  const imbalanceReport = await runImbalance(imbalanceFile, imbalance, withPolicies(flags, ["legacy", "batched", "none"]));
  const randreadReport = await runRandread(randreadFile, randread, flags);
  const doc = demoDocument({ maxMapCount, stress: stressReport, imbalance: imbalanceReport, randread: randreadReport });
  const source = flags.maxMapCount === undefined ? `this host's vm.max_map_count (${host.source})` : "--max-map-count";
  // The picture only for a person at a terminal: piped output stays plain tables.
  const picture = !flags.json && process.stdout.isTTY === true ? vmaChartText(stressReport.runs) : "";
  return { stdout: commandOutput(doc, () => formatDemo(doc, source, picture), flags.json, reportPath), exitCode: EXIT.OK };
}

function formatDemo(doc: DemoDocument, source: string, picture: string): string {
  return [
    `== 1. The seed's bug report at max_map_count ${doc.maxMapCount} (${source})`,
    formatStressReport(doc.stress),
    ...(picture === "" ? [] : ["", picture]),
    "",
    "== 2. Imbalance",
    formatImbalanceReport(doc.imbalance),
    "",
    "== 3. randread, short cells (npm run bench -- randread for the full table)",
    formatRandreadReport(doc.randread),
  ].join("\n");
}

function expectKind<S extends { kind: string }>(file: string, kind: S["kind"]): S {
  const s = loadScenarioFile(file);
  if (s.kind !== kind) throw new InputError("ERR_SCENARIO", `${file}: the demo needs kind '${kind}', found '${s.kind}'`);
  return s as unknown as S;
}

function withPolicies(flags: RuntimeFlags, policies: RuntimeFlags["policies"]): RuntimeFlags {
  return { ...flags, policies };
}
