/**
 * The exporter under a real Prometheus (Debian's prometheus, started here on
 * the loopback with a temporary config: a 1 s scrape and rule interval, a
 * temporary data folder, a free port). Two real processes are watched: a
 * quiet one and one that maps enough areas to leave under 20% of the host's
 * vm.max_map_count (test/fixtures/host/vma-areas.c, built with gcc).
 *
 * - The series arrive in Prometheus with the values the exporter was given.
 * - A copy of alerts.yml whose headroom rule holds for 0s fires for the busy
 *   process and not for the quiet one.
 * - Every query of the Grafana dashboard is valid PromQL to Prometheus.
 * - A process that went away leaves Prometheus's instant queries.
 *
 * The snapshots are the watch's own (src/host/snapshot.ts); stacks are 0, as
 * these processes have none. test/watch-cli.test.ts checks that
 * `coropool watch --prometheus` serves what it prints.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startExporter, type Exporter } from "../src/host/exporter.js";
import { snapshot } from "../src/host/snapshot.js";
import type { WatchedProcess } from "../src/host/watcher.js";
import { ROOT } from "./helpers/cli.js";
import { panelQueries } from "./helpers/dashboard.js";
import { skipReason } from "./helpers/installed.js";

const SKIP = skipReason("the exporter under a real Prometheus", ["prometheus", "gcc"], "apt-get install -y prometheus gcc");
const HEADROOM_ALERT = "CoropoolQemuVmaHeadroomLow";
/** How far under the alert's 20% the busy process goes: 15% of max_map_count left. */
const BUSY_HEADROOM = 0.15;
const WAIT_MS = 15_000;

const tmp = mkdtempSync(join(tmpdir(), "coropool-prometheus-"));
const started: ChildProcess[] = [];
let exporter: Exporter | undefined;
let prometheusUrl = "";
let prometheusLog = "";

/** One process as the watch reports it: the watch's own snapshot, now (a first sample: its peak is its stacks, no trend yet). */
function readSnapshot(pid: number, maxMapCount: number): WatchedProcess {
  const now = snapshot(pid, { maxMapCount });
  return { ...now, peakStacks: now.stacks, trend: null };
}

/** A port nothing listens on now (closed again before Prometheus takes it). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Starts the C helper mapping `areas` areas; resolves with it once it printed "ready". */
async function startHelper(binary: string, areas: number): Promise<ChildProcess> {
  const child = spawn(binary, [String(areas)], { stdio: ["pipe", "pipe", "inherit"] });
  started.push(child);
  let out = "";
  child.stdout!.on("data", (chunk: Buffer) => (out += chunk));
  await Promise.race([
    new Promise<void>((resolve) => child.stdout!.on("data", () => out.includes("ready\n") && resolve())),
    once(child, "exit").then(([code]) => Promise.reject(new Error(`vma-areas ${areas} exited ${code}`))),
  ]);
  return child;
}

async function promQuery(query: string): Promise<{ status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] }; error?: string }> {
  const res = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`);
  return res.json() as never;
}

/** The instant values of `metric` by pid. */
async function valuesByPid(metric: string): Promise<Record<string, number>> {
  const { data } = await promQuery(metric);
  return Object.fromEntries(data.result.map((r) => [r.metric.pid ?? "", Number(r.value[1])]));
}

/** Polls `probe` until it returns a value `done` accepts; fails with the last value and Prometheus's log. */
async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  let last: T = await probe();
  while (!done(last)) {
    if (Date.now() > deadline) throw new Error(`not within ${WAIT_MS} ms; last: ${JSON.stringify(last)}; prometheus said: ${prometheusLog.slice(-2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
    last = await probe();
  }
  return last;
}

/** alerts.yml with the headroom rule's hold cut to 0s, so it fires on the first evaluation. */
function rulesFiringAtOnce(): string {
  const rules = readFileSync(join(ROOT, "docs", "prometheus", "alerts.yml"), "utf8");
  const at = rules.indexOf(`alert: ${HEADROOM_ALERT}`);
  const hold = rules.indexOf("for: 5m", at);
  if (at < 0 || hold < 0) throw new Error(`alerts.yml has no ${HEADROOM_ALERT} held for 5m`);
  return `${rules.slice(0, hold)}for: 0s${rules.slice(hold + "for: 5m".length)}`;
}

async function startPrometheus(exporterPort: number): Promise<void> {
  const port = await freePort();
  writeFileSync(join(tmp, "alerts.yml"), rulesFiringAtOnce());
  writeFileSync(
    join(tmp, "prometheus.yml"),
    [
      "global: { scrape_interval: 1s, evaluation_interval: 1s }",
      "rule_files: [alerts.yml]",
      "scrape_configs:",
      "  - job_name: coropool",
      `    static_configs: [{ targets: ["127.0.0.1:${exporterPort}"] }]`,
      "",
    ].join("\n"),
  );
  mkdirSync(join(tmp, "data"));
  const args = [`--config.file=${join(tmp, "prometheus.yml")}`, `--storage.tsdb.path=${join(tmp, "data")}`, `--web.listen-address=127.0.0.1:${port}`, "--log.level=warn"];
  const child = spawn("prometheus", args, { stdio: ["ignore", "ignore", "pipe"] });
  started.push(child);
  child.stderr!.on("data", (chunk: Buffer) => (prometheusLog += chunk));
  prometheusUrl = `http://127.0.0.1:${port}`;
  await until(
    () => fetch(`${prometheusUrl}/-/ready`).then((r) => r.status, () => 0),
    (status) => status === 200,
  );
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.stdin?.end();
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

const maxMapCount = Number(readFileSync("/proc/sys/vm/max_map_count", "utf8"));
let quiet: ChildProcess;
let busy: ChildProcess;
let fed: WatchedProcess[] = [];
let readSeconds = 0;

describe.skipIf(SKIP !== null)(SKIP ?? "the exporter under a real Prometheus", () => {
  beforeAll(async () => {
    const binary = join(tmp, "vma-areas");
    const cc = spawnSync("gcc", ["-O2", "-Wall", "-o", binary, join(ROOT, "test", "fixtures", "host", "vma-areas.c")], { encoding: "utf8" });
    if (cc.status !== 0) throw new Error(`gcc: ${cc.stderr}`);
    quiet = await startHelper(binary, 0);
    // Each area adds 2 VMAs (the area and the gap above it): enough areas to leave BUSY_HEADROOM.
    const idle = readSnapshot(quiet.pid!, maxMapCount).vmas!;
    busy = await startHelper(binary, Math.ceil(((1 - BUSY_HEADROOM) * maxMapCount - idle) / 2));
    const t0 = process.hrtime.bigint();
    fed = [readSnapshot(quiet.pid!, maxMapCount), readSnapshot(busy.pid!, maxMapCount)];
    readSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    exporter = await startExporter({ host: "127.0.0.1", port: 0 });
    exporter.updateMetrics(fed, { maxMapCount, scrapeSeconds: readSeconds });
    await startPrometheus(exporter.address.port);
  }, 30_000);

  afterAll(async () => {
    for (const child of started.reverse()) await stop(child);
    await exporter?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it("the busy process really left under 20% of max_map_count, the quiet one far more", () => {
    const [q, b] = fed;
    expect(b!.headroom!.ratio).toBeLessThan(0.2);
    expect(b!.headroom!.ratio).toBeGreaterThan(BUSY_HEADROOM - 0.01);
    expect(q!.headroom!.ratio).toBeGreaterThan(0.99);
  });

  it("every series arrives with the values the exporter was given", async () => {
    const byPid = (pick: (p: WatchedProcess) => number) => Object.fromEntries(fed.map((p) => [String(p.pid), pick(p)]));
    const want: Record<string, Record<string, number>> = {
      coropool_qemu_vmas: byPid((p) => p.vmas!),
      coropool_qemu_headroom_ratio: byPid((p) => p.headroom!.ratio),
      coropool_qemu_stacks: byPid(() => 0),
      coropool_qemu_peak_stacks: byPid(() => 0),
      coropool_max_map_count: { "": maxMapCount },
      coropool_scrape_duration_seconds: { "": readSeconds },
    };
    for (const [metric, values] of Object.entries(want)) {
      expect(await until(() => valuesByPid(metric), (got) => Object.keys(got).length > 0), metric).toEqual(values);
    }
  });

  it("the headroom rule (held 0s) fires for the busy process, not the quiet one", async () => {
    type Alert = { labels: Record<string, string>; state: string };
    const firing = (alerts: Alert[]) => alerts.filter((a) => a.labels.alertname === HEADROOM_ALERT && a.state === "firing").map((a) => a.labels.pid);
    const alerts = await until(
      async () => ((await (await fetch(`${prometheusUrl}/api/v1/alerts`)).json()) as { data: { alerts: Alert[] } }).data.alerts,
      (list) => firing(list).length > 0,
    );
    expect(firing(alerts)).toEqual([String(busy.pid)]);
    const growth = alerts.filter((a) => a.labels.alertname !== HEADROOM_ALERT);
    expect(growth).toEqual([]);
  });

  it("every query of the Grafana dashboard is valid PromQL and finds the watched processes", async () => {
    for (const { panel, expr } of panelQueries()) {
      const r = await promQuery(expr.replaceAll("$vm", ".*"));
      expect(r.error, `${panel}: ${expr}`).toBeUndefined();
      expect(r.status, `${panel}: ${expr}`).toBe("success");
    }
    const stacks = await promQuery('coropool_qemu_stacks{vm=~".*"}');
    expect(stacks.data.result.map((r) => r.metric.pid).sort()).toEqual(fed.map((p) => String(p.pid)).sort());
  });

  it("a process that went away leaves Prometheus's instant queries", async () => {
    await stop(busy);
    const quietOnly = fed.filter((p) => p.pid === quiet.pid);
    exporter!.updateMetrics(quietOnly, { maxMapCount, scrapeSeconds: readSeconds });
    const got = await until(() => valuesByPid("coropool_qemu_vmas"), (v) => Object.keys(v).length === 1);
    expect(got).toEqual({ [String(quiet.pid)]: quietOnly[0]!.vmas });
  });
});
