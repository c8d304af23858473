/**
 * The terminal text of each experiment's report: what a command prints
 * without --json. The tables are the ones the HTML report shows too
 * (run-tables.ts, randread-table.ts); this file lays them out as plain text
 * under each command's own header.
 */
import type { BurstIdleReport } from "../experiments/burst-idle.js";
import type { CustomReport } from "../experiments/custom.js";
import type { ImbalanceReport } from "../experiments/imbalance.js";
import type { RandreadReport } from "../experiments/randread.js";
import type { RealAbortReport } from "../experiments/real-abort.js";
import type { ScenarioReport } from "../experiments/run-scenario.js";
import type { StressReport } from "../experiments/stress.js";
import { formatTable } from "../text-table.js";
import type { DemoDocument } from "./document.js";
import { randreadTables } from "./randread-table.js";
import { burstIdleTable, childrenTable, customTable, imbalanceTable, stressTable } from "./run-tables.js";
import { tableText } from "./table.js";

export { formatChange } from "./randread-table.js";

export function formatStressReport(report: StressReport): string {
  const { scenario } = report;
  const devices = scenario.guest.devices.map((d) => `${d.name} ${d.numQueues}x${d.queueSize}`).join(", ");
  const header = `vma-exhaustion: ${scenario.guest.iothreads} IOThreads${scenario.guest.mainLoop ? " + main loop" : ""}, devices ${devices}, ${scenario.rounds} rounds, seed ${scenario.seed}`;
  return [header, tableText(stressTable(report))].join("\n");
}

export function formatRealAbortReport(report: RealAbortReport): string {
  const header = `vma-exhaustion with real stacks (mmap + mprotect, ${report.scenario.guest.iothreads} IOThreads${report.scenario.guest.mainLoop ? " + main loop" : ""}), each policy in its own child process at this host's real vm.max_map_count ${report.hostMaxMapCount}:`;
  return [header, tableText(childrenTable(report))].join("\n");
}

export function formatImbalanceReport(report: ImbalanceReport): string {
  const { scenario } = report;
  const header = `imbalance: ${scenario.threads} threads; T${scenario.burstThread} bursts ${scenario.burst} then goes quiet; the others run ${scenario.rounds} rounds of ${scenario.inFlight}`;
  return [header, tableText(imbalanceTable(report))].join("\n");
}

export function formatBurstIdleReport(report: BurstIdleReport): string {
  const { scenario } = report;
  const header =
    `burst-idle: ${scenario.threads} threads; T0-T${scenario.burstThreads - 1} burst ${scenario.bursts} x ${scenario.burst}, ` +
    `all quiet ${scenario.quietMs} ms, then the others run ${scenario.rounds} rounds of ${scenario.inFlight}`;
  return [header, tableText(burstIdleTable(report))].join("\n");
}

/**
 * The seed's table (RW BLKSIZE IODEPTH OLD NEW CHANGE) when the policies are
 * legacy,batched, what OLD and NEW are, the device, the notes of cells that
 * did not measure; then latency percentiles.
 */
export function formatRandreadReport(report: RandreadReport): string {
  const { scenario } = report;
  const { iops, latency, legend } = randreadTables(report);
  const device = `device model: ${scenario.device.latencyUs} us latency, ${scenario.device.bandwidthMBps} MB/s; ${scenario.threads} IOThread(s), ${scenario.durationMs} ms per cell`;
  return [
    formatTable(iops.header, iops.rows),
    legend,
    device,
    ...iops.notes,
    "",
    "completion latency percentiles (us; HDR histogram, 3 significant digits):",
    tableText(latency),
  ].filter((l) => l !== "").join("\n");
}

export function formatCustomReport(report: CustomReport): string {
  const { scenario } = report;
  return [`custom: ${scenario.module} on ${scenario.threads} thread(s)`, tableText(customTable(report))].join("\n");
}

/** A scenario's report of any kind, as its own command prints it. */
export function formatScenarioReport(report: ScenarioReport): string {
  switch (report.command) {
    case "stress":
      return formatStressReport(report);
    case "imbalance":
      return formatImbalanceReport(report);
    case "randread":
      return formatRandreadReport(report);
    case "run":
      return formatCustomReport(report);
    case "burst-idle":
      return formatBurstIdleReport(report);
  }
}

/**
 * The demo's four parts under their headings. `limitSource` says where part
 * 1's limit came from; `picture` (VMAs over time) is drawn under part 1 when
 * not empty.
 */
export function formatDemo(doc: DemoDocument, limitSource: string, picture: string): string {
  return [
    `== 1. The seed's bug report at max_map_count ${doc.maxMapCount} (${limitSource})`,
    formatStressReport(doc.stress),
    ...(picture === "" ? [] : ["", picture]),
    "",
    "== 2. Imbalance",
    formatImbalanceReport(doc.imbalance),
    "",
    "== 3. randread, short cells (npm run bench -- randread for the full table)",
    formatRandreadReport(doc.randread),
    ...(doc.burstIdle
      ? ["", "== 4. Beyond 9.0: a burst, a quiet period, and what stays mapped (batched vs elastic)", formatBurstIdleReport(doc.burstIdle)]
      : []),
  ].join("\n");
}
