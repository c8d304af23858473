import { setTimeout as sleep } from "node:timers/promises";
import { InputError } from "../../errors.js";
import { Watcher, type WatchedProcess, type WatchSample } from "../../host/watcher.js";
import { PID } from "../../options/catalogue.js";
import { REFUSED } from "../../options/rule.js";
import { badArgument } from "../../options/resolve.js";
import { badOption, cliDoor } from "../../options/door.js";
import { resolveWatchOptions } from "../../options/doors.js";
import { alertLine, formatWatchSample, overAlert } from "../../report/watch-text.js";
import { watchDocument } from "../../report/watch-document.js";
import { startExporter, type Exporter } from "../../host/exporter.js";
import { LISTEN_ADDRESS_ALLOWED, parseListenAddress, type ListenAddress } from "../../host/listen-address.js";
import { PlanCeilings } from "../../api/watch-ceilings.js";
import { EXIT, type CommandResult } from "../exit.js";
import { flag, flagHelp, readFlags, type ReadFlags } from "../flag-table.js";
import { Interrupt } from "../interrupt.js";

const WATCH_FLAGS = [
  flag("once"),
  flag("interval"),
  flag("json", undefined, "one JSON document per snapshot, one a line (docs/watch.schema.json)"),
  flag("alert"),
  flag("policyOverrides", "PID=P[,...]", "the pool policy of a vendor build that backports a pool, by pid (e.g. 4711=batched): it wins over the one its version gives"),
  flag("stackSize", "SIZE", "the build's coroutine stack size (default 1m, as QEMU)"),
  flag("prometheus"),
];

export const WATCH_HELP = `Usage: coropool watch [PID...] [options]

Watches the QEMU processes running on this host, read from /proc without
running or tracing them: for each, its VM's name (-name), its QEMU version
(read from the bytes of the binary it runs) and so its pool policy (up to 8.2
legacy; 9.0 and later batched, whose hard cap is dead on Linux), its VMAs
against vm.max_map_count and the headroom left, its coroutine stacks mapped
now (in use and pooled alike: the maps cannot tell them apart), the most seen
since watching began, the trend in stacks a minute, and its ceiling: the
worst-case VMAs under its policy of the plan of its own command line (as
coropool plan --pid gives it, made once a process) and the headroom against
it (negative: the VM can exhaust its limit). Without PID, every
QEMU system emulator (qemu-system-*, qemu-kvm, kvm, by the binary's name);
a PID given is watched whatever it runs.

On a terminal the table redraws in place; q or Ctrl-C quits. Reading another
user's QEMU (libvirt runs it as libvirt-qemu) needs root or CAP_SYS_PTRACE: a
process that cannot be read is reported as unreadable.

Options:
${flagHelp(WATCH_FLAGS)}

Exit status: 0 watched (a watch ends with q, SIGINT or SIGTERM); 3 with
--once, a process is over --alert; 2 bad input (one PID that does not exist or
cannot be read, a bad flag, a --prometheus address that is bad or in use);
1 internal error.

Examples:
  coropool watch
  coropool watch --once --json
  coropool watch 4711 --alert 80 --interval 5
  coropool watch --policy 4711=batched
  coropool watch --prometheus 9464 --interval 15`;

/** The seconds between snapshots, as --interval allows them. */
const MIN_INTERVAL_SECONDS = 0.1;
const MAX_INTERVAL_SECONDS = 86_400;
const DEFAULT_INTERVAL_SECONDS = 2;

export async function watchCommand(argv: string[], interrupt = new Interrupt()): Promise<CommandResult> {
  const flags = readFlags("watch", argv, WATCH_FLAGS, Infinity);
  if (flags.help) return { stdout: WATCH_HELP, exitCode: EXIT.OK };
  const door = cliDoor("watch");
  const pids = flags.positionals.map(pidArgument);
  const alert = alertPercent(flags);
  const request = resolveWatchOptions(door, { ...flags.options, intervalMs: intervalMs(flags), ...(pids.length > 0 ? { pids } : {}) });
  const listen = prometheusAddress(flags);
  const ceilings = new PlanCeilings();
  const watcher = new Watcher({ ...request, ceilings });
  const first = timedSample(watcher);
  if (pids.length === 1) refuseUnreadable(first.sample.processes[0]!);
  // One sample shown once: it waits for its plans (a running watch shows them as they come).
  if (flags.once) return onceResult(await ceilings.settled().then(() => watcher.withCeilings(first.sample)), flags.json, alert, pids.length === 0);
  // Listening is the last thing that can refuse (a port in use): exit 2 before anything is printed.
  const exporter = listen === null ? null : await startExporter(listen);
  if (exporter !== null) process.stderr.write(`coropool: serving ${exporter.url}\n`);
  try {
    await watchLive(watcher, first, { interval: request.intervalMs, json: flags.json, alert, watchingAll: pids.length === 0, exporter }, interrupt.stopsGracefully());
  } finally {
    await exporter?.close();
  }
  return { stdout: "", exitCode: EXIT.OK, endsOnSignal: true };
}

/** --prometheus [HOST:]PORT; it serves a running watch, so not with --once. */
function prometheusAddress(flags: ReadFlags): ListenAddress | null {
  const text = flags.text("prometheus");
  if (text === undefined) return null;
  const address = parseListenAddress(text);
  if (address === null) throw badOption(cliDoor("watch"), "prometheus", text, LISTEN_ADDRESS_ALLOWED);
  if (flags.once) throw new InputError("ERR_USAGE", "watch: --prometheus serves a running watch; leave out --once");
  return address;
}

/** A PID argument: a process id. */
function pidArgument(text: string): number {
  const pid = PID.check(PID.fromText(text));
  if (pid === REFUSED) throw badArgument(cliDoor("watch"), "PID", text, PID.allowed);
  return pid;
}

/** One PID that cannot be watched is bad input; among several, it is a row that says so. */
function refuseUnreadable(p: WatchedProcess): void {
  if (p.unreadable !== undefined) throw new InputError("ERR_BAD_ARGUMENT", `watch: PID ${p.pid}: ${p.unreadable}; allowed: a running process this user may read`);
}

/** A sample and how long reading it took (the exporter's scrape duration). */
interface TimedSample {
  sample: WatchSample;
  seconds: number;
}

function timedSample(watcher: Watcher): TimedSample {
  const started = process.hrtime.bigint();
  const sample = watcher.sample();
  return { sample, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

/** A flag's text as a decimal number ("2", "0.5"), NaN for anything else. */
function decimal(text: string): number {
  return /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
}

function intervalMs(flags: ReadFlags): number {
  const text = flags.text("interval");
  if (text === undefined) return DEFAULT_INTERVAL_SECONDS * 1000;
  const seconds = decimal(text);
  if (!(seconds >= MIN_INTERVAL_SECONDS && seconds <= MAX_INTERVAL_SECONDS)) {
    throw badOption(cliDoor("watch"), "interval", text, `a number of seconds from ${MIN_INTERVAL_SECONDS} to ${MAX_INTERVAL_SECONDS}`);
  }
  return Math.round(seconds * 1000);
}

function alertPercent(flags: ReadFlags): number | null {
  const text = flags.text("alert");
  if (text === undefined) return null;
  const percent = decimal(text);
  if (!(percent > 0 && percent < 100)) throw badOption(cliDoor("watch"), "alert", text, "a percentage of max_map_count, more than 0 and less than 100");
  return percent;
}

function onceResult(sample: WatchSample, json: boolean, alert: number | null, watchingAll: boolean): CommandResult {
  const over = alert === null ? [] : sample.processes.filter((p) => overAlert(p, alert));
  return {
    stdout: json ? JSON.stringify(watchDocument(sample)) : formatWatchSample(sample, watchingAll),
    exitCode: over.length > 0 ? EXIT.VMA_ABORT : EXIT.OK,
    ...(over.length > 0 ? { stderr: over.map((p) => alertLine(p, alert!)).join("; ") } : {}),
  };
}

interface LiveOutput {
  interval: number;
  json: boolean;
  alert: number | null;
  watchingAll: boolean;
  exporter: Exporter | null;
}

/**
 * Redraws (a terminal) or appends (a pipe, --json) a sample every interval
 * until q, SIGINT or SIGTERM; the exporter, if any, serves the latest.
 */
async function watchLive(watcher: Watcher, first: TimedSample, { interval, json, alert, watchingAll, exporter }: LiveOutput, signal: AbortSignal): Promise<void> {
  const live = !json && process.stdout.isTTY === true;
  const quit = new AbortController();
  const stopKeys = live ? listenForQuit(() => quit.abort()) : () => {};
  const stopped = AbortSignal.any([signal, quit.signal]);
  const alerted = new Set<number>();
  try {
    let next = first;
    while (!stopped.aborted) {
      const { sample, seconds } = next;
      exporter?.updateMetrics(sample.processes, { maxMapCount: sample.maxMapCount, scrapeSeconds: seconds });
      if (json) process.stdout.write(`${JSON.stringify(watchDocument(sample))}\n`);
      else process.stdout.write(live ? `\x1b[H\x1b[2J${formatWatchSample(sample, watchingAll)}\n(q quits)\n` : `${formatWatchSample(sample, watchingAll)}\n\n`);
      if (alert !== null) alertOnCrossing(sample.processes, alert, alerted);
      await sleep(interval, undefined, { signal: stopped }).catch(() => undefined);
      if (!stopped.aborted) next = timedSample(watcher);
    }
  } finally {
    stopKeys();
  }
}

/** One stderr line when a process crosses the threshold, not one every sample while it stays over. */
function alertOnCrossing(processes: WatchedProcess[], percent: number, alerted: Set<number>): void {
  for (const p of processes) {
    const over = overAlert(p, percent);
    if (over && !alerted.has(p.pid)) process.stderr.write(`coropool: ${alertLine(p, percent)}\n`);
    if (over) alerted.add(p.pid);
    else alerted.delete(p.pid);
  }
}

/** q (or Ctrl-C, which raw mode delivers as a key) quits; returns what puts the terminal back. */
function listenForQuit(quit: () => void): () => void {
  const stdin = process.stdin;
  if (stdin.isTTY !== true) return () => {};
  const onKey = (key: Buffer) => {
    if (key.includes(0x71) || key.includes(0x51) || key.includes(0x03)) quit();
  };
  stdin.setRawMode(true);
  stdin.on("data", onKey);
  stdin.resume();
  return () => {
    stdin.off("data", onKey);
    stdin.setRawMode(false);
    stdin.pause();
  };
}
