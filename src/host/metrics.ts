/**
 * The watch's snapshots as Prometheus gauges, named `coropool_<thing>` as
 * Prometheus's conventions ask. One series a process, labelled by what
 * identifies it to an operator (pid, vm) and by what explains its numbers
 * (qemu_version, policy); counts are plain numbers, without units. Each
 * update replaces the whole set, so a process that went away leaves no series
 * behind to be mistaken for a live one.
 */
import { Gauge, Registry } from "prom-client";
import type { WatchedProcess } from "./watcher.js";

/** What a snapshot set says beside its processes. */
export interface SnapshotSetInfo {
  /** The host's vm.max_map_count; else taken from the first process that carries it. */
  readonly maxMapCount?: number;
  /** How long reading the set from /proc took, seconds. */
  readonly scrapeSeconds?: number;
}

const PROCESS_LABELS = ["pid", "vm", "qemu_version", "policy"] as const;
type ProcessLabel = (typeof PROCESS_LABELS)[number];

/** A process gauge's name, its help text, and its value in a readable process. */
const PROCESS_GAUGES = [
  ["coropool_qemu_stacks", "Coroutine stacks mapped now (in use and pooled): a one-page guard below a rw map of the stack size", (p: WatchedProcess) => p.stacks],
  ["coropool_qemu_vmas", "Memory maps (VMAs) of the process now, the count vm.max_map_count limits", (p: WatchedProcess) => p.vmas],
  ["coropool_qemu_peak_stacks", "The most coroutine stacks seen mapped since the watch began", (p: WatchedProcess) => p.peakStacks],
  ["coropool_qemu_headroom_ratio", "VMAs left before vm.max_map_count, as a share of it (0 to 1): QEMU aborts at 0", (p: WatchedProcess) => p.headroom?.ratio ?? null],
  ["coropool_qemu_worst_case_vmas", "The VM's ceiling: the VMAs of the worst case under its policy of the plan of its command line (coropool plan --pid)", (p: WatchedProcess) => p.ceiling?.vmas ?? null],
  ["coropool_qemu_worst_case_headroom_ratio", "vm.max_map_count less the worst-case VMAs, as a share of it: below 0, the VM can exhaust its limit under its worst case", (p: WatchedProcess) => (p.ceiling ? p.ceiling.headroom / p.maxMapCount : null)],
] as const;

export interface HostMetrics {
  readonly registry: Registry;
  /** Sets every gauge from the latest snapshot set; a process not in it loses its series. */
  updateMetrics(snapshots: readonly WatchedProcess[], info?: SnapshotSetInfo): void;
}

export function createHostMetrics(): HostMetrics {
  const registry = new Registry();
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Gauge<L>({ name, help, labelNames, registers: [registry] });
  const processGauges = PROCESS_GAUGES.map(([name, help, value]) => ({ gauge: gauge(name, help, PROCESS_LABELS), value }));
  const unreadable = gauge("coropool_qemu_unreadable", "1 for a watched process whose maps cannot be read (the reason label says why: root or CAP_SYS_PTRACE is needed for another user's QEMU)", [...PROCESS_LABELS, "reason"]);
  const maxMapCount = hostGauge(registry, "coropool_max_map_count", "The host's vm.max_map_count: the most VMAs a process may map");
  const scrapeDuration = hostGauge(registry, "coropool_scrape_duration_seconds", "Seconds the last snapshot of every watched process took to read from /proc");

  function updateMetrics(snapshots: readonly WatchedProcess[], info: SnapshotSetInfo = {}): void {
    for (const { gauge } of processGauges) gauge.reset();
    unreadable.reset();
    for (const p of snapshots) {
      const labels = labelsOf(p);
      if (p.unreadable !== undefined) unreadable.set({ ...labels, reason: p.unreadable }, 1);
      else for (const { gauge, value } of processGauges) setIfKnown(gauge, labels, value(p));
    }
    const limit = info.maxMapCount ?? snapshots.find((p) => Number.isSafeInteger(p.maxMapCount))?.maxMapCount;
    if (limit !== undefined) maxMapCount.set(limit);
    if (info.scrapeSeconds !== undefined) scrapeDuration.set(info.scrapeSeconds);
  }

  return { registry, updateMetrics };
}

/**
 * A gauge without labels that joins the registry with its first value:
 * prom-client shows an unlabelled gauge as 0 from its creation, and a
 * max_map_count of 0 before the first snapshot would be a made-up number.
 */
function hostGauge(registry: Registry, name: string, help: string): { set(value: number): void } {
  const gauge = new Gauge({ name, help, registers: [] });
  return {
    set(value) {
      if (!registry.getSingleMetric(name)) registry.registerMetric(gauge);
      gauge.set(value);
    },
  };
}

/** A value a snapshot could not tell (null) is no sample, never a made-up 0. */
function setIfKnown(gauge: Gauge<ProcessLabel>, labels: Record<ProcessLabel, string>, value: number | null): void {
  if (value !== null) gauge.set(labels, value);
}

/** A null label is the empty string, which Prometheus treats as the label being absent. */
function labelsOf(p: WatchedProcess): Record<ProcessLabel, string> {
  return { pid: String(p.pid), vm: p.vm ?? "", qemu_version: p.qemuVersion ?? "", policy: p.policy ?? "" };
}
