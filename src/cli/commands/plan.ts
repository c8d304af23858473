import { planPrepared, preparePlan } from "../../api/plan.js";
import { InputError } from "../../errors.js";
import { cliDoor } from "../../options/door.js";
import { checkOutputPath } from "../../output-file.js";
import { demandOf } from "../../plan/demand.js";
import type { PlanConfig, PlanInput } from "../../plan/plan-input.js";
import { planAborts } from "../../report/plan-document.js";
import { formatPlan } from "../../report/plan-text.js";
import { stressScenarioOf } from "../../scenarios/from-plan.js";
import { commandOutput, reportPathFlag } from "../command-output.js";
import { EXIT, type CommandResult, type PendingOutput } from "../exit.js";
import { flag, flagHelp, readFlags } from "../flag-table.js";
import { Interrupt } from "../interrupt.js";
import { LOG_LIMIT_FLAGS } from "../log-flags.js";

const PLAN_FLAGS = [
  flag("cmdline", "'QEMU ARGS'", "the QEMU command line as one shell-quoted line (instead of FILE)"),
  flag("pid", "PID", "a running QEMU: its command line (/proc/PID/cmdline), its version (/proc/PID/exe) and its own VMAs besides the stacks"),
  flag("qemuVersion", "X.Y[.Z]", "the QEMU version to plan for (default: the running process's, else the emulator the input names if it is on this host, else the newest rules)"),
  flag("machine", "TYPE", "the machine type to plan for, over the input's (e.g. pc-q35-7.2: types up to 5.1 force virtio-blk num-queues=1, up to 4.2 queue-size=128)"),
  flag("policies", "P[,P...]", "compare only these policies, in this order (default: legacy, batched uncapped and capped, none, elastic)"),
  ...LOG_LIMIT_FLAGS.map((f) => (f.name === "baselineVmas" ? { ...f, about: "VMAs the process maps besides coroutine stacks (default: a running QEMU's own with --pid, else 371, what an idle QEMU maps; either plus the thread-pool workers the load brings, 64 an AioContext doing I/O, two VMAs each)" } : f)),
  flag("json", undefined, "print the plan as a versioned JSON document (planDocument in docs/result.schema.json)"),
  flag("report", "FILE.html", "also write a self-contained HTML page after the plan is printed"),
  flag("output", "FILE", "also write the worst-case schedule: FILE.json as a stress scenario (where the format can express the VM), any other name as a coropool trace that replay reruns", "o"),
];

export const PLAN_HELP = `Usage: coropool plan FILE | --cmdline 'QEMU ARGS' | --pid PID [options]

Plans a VM before it runs: from its configuration (a QEMU command line,
NUL-separated as in /proc/PID/cmdline or one shell-quoted line as libvirt's
log and Proxmox's 'qm showcmd' print it; a libvirt domain XML as 'virsh
dumpxml' prints it; or a running QEMU), the threads that run coroutines, the
most coroutines each device can hold at once, the pool increase; then a
worst-case schedule of that demand run through the deterministic replay
under every pool policy: the worst-case stacks and VMAs, where each peak
falls, and the smallest safe vm.max_map_count.

Options:
${flagHelp(PLAN_FLAGS)}

SIGINT or SIGTERM stops the schedule between two rounds: the plan of the
rounds written so far is printed, marked interrupted.

Exit status: 0 every policy fits under M, 3 some policy aborts at M (the
plan is still printed), 2 bad input (one line naming it), 6 the plan was
printed but -o or the report could not be written, 130/143 stopped by
SIGINT/SIGTERM, 1 internal error.

Examples:
  virsh domxml-to-native qemu-argv db01.xml > db01.args && coropool plan db01.args --qemu-version 7.2
  virsh dumpxml db01 > db01.xml && coropool plan db01.xml --max-map-count 65530 --report db01-plan.html
  coropool plan --pid $(pidof qemu-system-x86_64) --json
  coropool plan vm.args -o vm.trace && coropool replay vm.trace --policy legacy`;

export async function planCommand(argv: string[], interrupt = new Interrupt()): Promise<CommandResult> {
  const flags = readFlags("plan", argv, PLAN_FLAGS, 1);
  if (flags.help) return { stdout: PLAN_HELP, exitCode: EXIT.OK };
  const { config, inputs } = configOf(flags.positionals[0], flags.text("cmdline"), flags.options.pid as number | undefined);
  const reportPath = reportPathFlag(flags.report, inputs);
  const outputPath = flags.output === undefined ? undefined : checkOutputPath(flags.output, "-o", inputs);
  const { pid: _pid, ...options } = flags.options;
  const signal = interrupt.stopsGracefully();
  const prepared = preparePlan(cliDoor("plan"), config, { ...options, signal });
  // A scenario the format cannot express is refused before the plan is worked out.
  const scenario = outputPath?.endsWith(".json") ? scenarioWriter(prepared.input, prepared.request.maxMapCount) : null;
  const { document, trace } = await planPrepared(prepared);
  const outputs: PendingOutput[] = [];
  if (outputPath !== undefined) {
    const text = scenario === null ? trace : () => scenario(document.schedule.rounds);
    outputs.push({ path: outputPath, flag: "-o", inputs, text, announce: !flags.json });
  }
  return { ...commandOutput(document, () => formatPlan(document), flags.json, reportPath, signal), outputs, exitCode: planAborts(document) ? EXIT.VMA_ABORT : EXIT.OK };
}

/** One input: FILE, --cmdline or --pid. */
function configOf(file: string | undefined, cmdline: string | undefined, pid: number | undefined): { config: PlanConfig; inputs: string[] } {
  const given = [file !== undefined ? "FILE" : null, cmdline !== undefined ? "--cmdline" : null, pid !== undefined ? "--pid" : null].filter((g) => g !== null);
  if (given.length !== 1) {
    const what = given.length === 0 ? "missing the VM's configuration" : `${given.join(" and ")} given together`;
    throw new InputError("ERR_USAGE", `plan: ${what}; allowed: one of FILE, --cmdline 'QEMU ARGS' or --pid PID; see 'coropool plan --help'`);
  }
  if (file !== undefined) return { config: { file }, inputs: [file] };
  if (cmdline !== undefined) return { config: { commandLine: cmdline }, inputs: [] };
  return { config: { pid: pid! }, inputs: [] };
}

/** The stress scenario of the input's demand, by the schedule's rounds; refused at once where the format cannot say the VM. */
function scenarioWriter(input: PlanInput, maxMapCount: number): (rounds: number) => string {
  const demand = demandOf(input.model, input.version);
  stressScenarioOf(input.model, demand, 1, maxMapCount);
  return (rounds) => JSON.stringify(stressScenarioOf(input.model, demand, rounds, maxMapCount), null, 2) + "\n";
}
