/** Snapshot data for the exporter's tests, and a reader of its /metrics page. */
import { startExporter } from "../../src/host/exporter.js";
import type { WatchedProcess } from "../../src/host/metrics.js";

/** A readable QEMU as the watch reports it. */
export function watched(pid: number, fields: Partial<WatchedProcess> = {}): WatchedProcess {
  const maxMapCount = fields.maxMapCount ?? 65530;
  const vmas = fields.vmas ?? 1200;
  return {
    pid,
    vm: `vm${pid}`,
    exe: "/usr/bin/qemu-system-x86_64",
    qemuVersion: "7.2.22",
    policy: "legacy",
    vmas,
    maxMapCount,
    headroom: { vmas: maxMapCount - vmas, ratio: (maxMapCount - vmas) / maxMapCount },
    stacks: 300,
    peakStacks: 310,
    trendPerMinute: 0,
    ...fields,
  };
}

/** The samples of a /metrics page: `name{labels}` → value; HELP and TYPE lines left out. */
export function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

/** The metric names the exporter serves once it has seen every kind of process and the set's info. */
export async function servedMetrics(): Promise<Set<string>> {
  const e = await startExporter({ host: "127.0.0.1", port: 0 });
  try {
    e.updateMetrics([watched(1), watched(2, { unreadable: "permission denied" })], { maxMapCount: 65530, scrapeSeconds: 0.001 });
    const text = await (await fetch(e.url)).text();
    return new Set([...text.matchAll(/^# TYPE (\S+) gauge$/gm)].map((m) => m[1]!));
  } finally {
    await e.close();
  }
}
