/**
 * A watch's sample as the terminal shows it: one row per process, how close
 * it is to max_map_count and whether its stacks grow. The trend is a rate
 * (stacks a minute), never a time to the limit: stacks grow in steps and
 * level off. The ceiling is the worst case of the VM's plan under its policy
 * (plan --pid), and the headroom against it: negative, the VM can exhaust
 * its limit.
 */
import { PLANNING, type WatchedProcess, type WatchSample } from "../host/watcher.js";
import { tableText, type Table } from "./table.js";

export function watchTable(sample: WatchSample): Table {
  return {
    kind: "watch",
    header: ["pid", "vm", "qemu", "policy", "VMAs", "headroom", "stacks", "peak", "stacks/min", "ceiling", "headroom at ceiling"],
    rows: sample.processes.map((p) => [...processRow(p), ...ceilingCells(p)]),
    notes: sample.processes.flatMap(noteOf),
  };
}

/** The worst-case VMAs and the headroom against them; "planning" until the plan is made. */
function ceilingCells(p: WatchedProcess): string[] {
  if (p.ceiling === null) return [p.unplanned === PLANNING ? PLANNING : "-", "-"];
  return [String(p.ceiling.vmas), String(p.ceiling.headroom)];
}

/** Why a row lacks numbers: unreadable, or no ceiling (the rows say not QEMU and planning themselves). */
function noteOf(p: WatchedProcess): string[] {
  if (p.unreadable !== undefined) return [`${p.pid}: ${p.unreadable}`];
  if (p.unplanned === undefined || p.unplanned === PLANNING || !p.qemu) return [];
  return [`${p.pid}: no ceiling: ${p.unplanned}`];
}

function processRow(p: WatchedProcess): string[] {
  if (p.unreadable !== undefined) return [String(p.pid), p.vm ?? "-", p.qemuVersion ?? "-", p.policy ?? "-", "unreadable", "-", "-", orDash(p.peakStacks), "-"];
  const headroom = p.headroom === null ? "-" : `${p.headroom.vmas} (${(p.headroom.ratio * 100).toFixed(1)}%)`;
  return [
    String(p.pid),
    p.vm ?? "-",
    p.qemuVersion ?? (p.qemu ? "unknown" : "not QEMU"),
    p.policy ?? "-",
    p.vmas === null ? "-" : `${p.vmas} / ${p.maxMapCount}`,
    headroom,
    orDash(p.stacks),
    orDash(p.peakStacks),
    p.trend === null ? "-" : signed(p.trend),
  ];
}

function orDash(n: number | null): string {
  return n === null ? "-" : String(n);
}

/** "+12.5", "0", "-3": a change a minute. */
function signed(rate: number): string {
  const text = Number.isInteger(rate) ? String(rate) : rate.toFixed(1);
  return rate > 0 ? `+${text}` : text;
}

/** The whole screen of one sample: when, the limit, the table; or that no QEMU runs here (yet). */
export function formatWatchSample(sample: WatchSample, watchingAll: boolean): string {
  const head = `${sample.time}  vm.max_map_count ${sample.maxMapCount}`;
  if (sample.processes.length === 0) {
    return `${head}\nno QEMU process found on this host${watchingAll ? "; waiting for one to start" : ""}`;
  }
  return `${head}\n${tableText(watchTable(sample))}`;
}

/** A process over the alert threshold: its share of max_map_count in use, above `percent`. */
export function overAlert(p: WatchedProcess, percent: number): boolean {
  return p.vmas !== null && (p.vmas / p.maxMapCount) * 100 > percent;
}

/** The stderr line of an alert. */
export function alertLine(p: WatchedProcess, percent: number): string {
  const used = ((p.vmas! / p.maxMapCount) * 100).toFixed(1);
  return `alert: pid ${p.pid}${p.vm === null ? "" : ` (${p.vm})`} uses ${p.vmas} of ${p.maxMapCount} VMAs (${used}%, over ${percent}%); ${p.stacks ?? "?"} coroutine stacks`;
}
