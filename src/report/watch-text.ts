/**
 * A watch's sample as the terminal shows it: one row per process, how close
 * it is to max_map_count and whether its stacks grow. The trend is a rate
 * (stacks a minute), never a time to the limit: stacks grow in steps and
 * level off.
 */
import type { WatchedProcess, WatchSample } from "../host/watcher.js";
import { tableText, type Table } from "./table.js";

export function watchTable(sample: WatchSample): Table {
  return {
    kind: "watch",
    header: ["pid", "vm", "qemu", "policy", "VMAs", "headroom", "stacks", "peak", "stacks/min"],
    rows: sample.processes.map(processRow),
    notes: sample.processes.filter((p) => p.unreadable !== undefined).map((p) => `${p.pid}: ${p.unreadable}`),
  };
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
