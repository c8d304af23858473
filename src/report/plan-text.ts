/** The plan as the terminal shows it: the input and its facts, the devices' demand, the schedule, then the policies. */
import { planNotes, type PlanReport } from "./plan-document.js";
import { planDeviceTable, planTable } from "./plan-table.js";
import { tableText } from "./table.js";

export function formatPlan(report: PlanReport): string {
  return [
    ...planInputLines(report),
    "",
    tableText(planDeviceTable(report)),
    "",
    "worst-case schedule:",
    ...report.schedule.description.map((line) => `  ${line}`),
    ...planNotes(report),
    "",
    tableText(planTable(report)),
  ].join("\n");
}

/** What was read, and where each fact not in it came from. */
export function planInputLines(report: PlanReport): string[] {
  const i = report.input;
  const version = i.qemuVersion.value === null ? "unknown" : `${i.qemuVersion.value} (${i.qemuVersion.from}; its pool: ${i.qemuPolicy})`;
  return [
    `plan of ${report.source}${i.vm === null ? "" : ` (VM ${i.vm})`}: ${i.format === "libvirt-xml" ? "libvirt domain XML" : "QEMU command line"}`,
    `QEMU ${version}`,
    `machine ${i.machine.type} (${i.machine.why}), ${i.vcpus.value} vCPU(s) (${i.vcpus.why})`,
    `pool increase ${i.poolIncrease.total}${i.poolIncrease.items.length > 0 ? `: ${i.poolIncrease.items.map((p) => `${p.device} ${p.amount}`).join(", ")}` : ""}`,
    `limit asked about: max_map_count ${report.maxMapCount}, with ${report.baselineVmas} VMAs besides the stacks (${i.baselineVmas.from})`,
    ...(i.ignored.length > 0 ? [`ignored: ${i.ignored.map((g) => `${g.what} (${g.why})`).join("; ")}`] : []),
  ];
}
