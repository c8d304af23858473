/**
 * The plan's tables, for the terminal and the page alike: the threads and
 * what each device puts on them, and one row per policy with where in the
 * schedule its peak and its abort fall.
 */
import type { Table } from "./table.js";
import type { PlanReport } from "./plan-document.js";
import { smallestSafeText } from "./whatif-table.js";

export function planDeviceTable(report: PlanReport): Table {
  return {
    kind: "plan-devices",
    header: ["device", "requests in flight", "coroutines each", "coroutines", "created on", "terminated on"],
    rows: report.input.devices.map((d) => [d.device, d.requests, d.coroutinesPerRequest, d.coroutines, creatorsText(d.creators), d.terminator]),
    notes: report.input.devices.map((d) => `${d.device}: ${d.why.join("; ")}`),
  };
}

export function planTable(report: PlanReport): Table {
  return {
    kind: "plan",
    header: ["policy", "this QEMU", "worst-case stacks", "worst-case VMAs", "peak in", "mapped after", `aborts at ${report.maxMapCount}?`, "smallest safe max_map_count"],
    rows: report.rows.map((r) => [
      r.label,
      r.thisQemu ? "yes" : "",
      r.peakStacks,
      r.peakVmas,
      r.peakPart ?? "-",
      r.mappedAtEnd,
      r.abort === null ? "no" : `yes, in ${r.abortPart ?? `line ${r.abort.line}`}`,
      smallestSafeText(r),
    ]),
    notes: report.rows.filter((r) => r.abort !== null).map((r) => `${r.label}: aborts at line ${r.abort!.line} of the schedule (${r.abortPart ?? "-"}): ${r.abort!.error}`),
  };
}

/** "vCPU 0 … vCPU 7" for a run of vCPUs, else the names. */
function creatorsText(names: readonly string[]): string {
  return names.length > 2 && names.every((n) => n.startsWith("vCPU ")) ? `${names[0]} … ${names.at(-1)} (any)` : names.join(", ");
}
