/**
 * The plan's HTML page body: the input and where each fact came from, the
 * devices' demand, the schedule, the table of policies, and the stacks
 * mapped over the schedule under each policy with the limit as a rule.
 */
import { htmlTable, paragraph, tableHtml } from "./html-parts.js";
import { planNotes, type PlanReport } from "./plan-document.js";
import { planDeviceTable, planTable } from "./plan-table.js";
import { planInputLines } from "./plan-text.js";
import { mappedChart } from "./whatif-html.js";

export function planBody(report: PlanReport): string {
  return [
    ...planInputLines(report).map(paragraph),
    tableHtml(planDeviceTable(report)),
    paragraph("The worst-case schedule, run through the deterministic replay under every policy:"),
    htmlTable(["step"], report.schedule.description.map((line) => [line]), "plan-schedule", false),
    ...planNotes(report).map(paragraph),
    tableHtml(planTable(report)),
    mappedChart(report, "event of the worst-case schedule"),
    htmlTable(["part of a round", "coroutines live at its top"], report.schedule.parts.map((p) => [p.name, String(p.live)]), "plan-parts", false),
  ].join("");
}
