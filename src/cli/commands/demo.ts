import { join } from "node:path";
import { projectRoot } from "../../project-root.js";
import { replayCommand } from "./replay.js";
import { parseCommandArgs } from "../args.js";
import { EXIT, type CommandResult } from "../exit.js";

export const DEMO_HELP = `Usage: coropool demo [--json]

The main job: replays the bundled imbalance trace (one thread bursts, then
goes quiet while three others need coroutines; two virtio-blk devices of
64 queues x 256 entries) under legacy, batched and none, side by side, on
this host's max_map_count and real VMA baseline.

Examples:
  coropool demo
  npm start`;

export function demoCommand(argv: string[]): CommandResult {
  const { values } = parseCommandArgs("demo", argv, { json: { type: "boolean" } }, 0);
  if (values.help) return { stdout: DEMO_HELP, exitCode: EXIT.OK };
  const trace = join(projectRoot(), "traces", "imbalance.trace");
  const result = replayCommand([trace, "--policy", "legacy,batched,none", ...(values.json ? ["--json"] : [])]);
  // The demo shows an abort as a finding, not as its own failure.
  return { stdout: result.stdout, exitCode: EXIT.OK };
}
