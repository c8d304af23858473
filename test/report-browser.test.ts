/**
 * The HTML reports in a real headless Chromium (Debian's chromium, driven by
 * playwright-core; no browser is ever downloaded): each page loads without a
 * console error or a network request, each chart is there with the expected
 * number of series, and a screenshot is taken (reports/screenshots/).
 *
 * Pages: stress (written by 'coropool report' from a saved --json result),
 * imbalance and randread (written by --report during the run), and the demo
 * page (rendered here from those three documents, as the demo nests them;
 * the demo's own --report run is covered by test/json-schema.test.ts).
 *
 * Without chromium the suite is skipped with the reason; under CI (CI=true)
 * a missing chromium is a failure, since .ci/run installs it.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoDocument, type ResultDocument } from "../src/report/document.js";
import { renderReportHtml } from "../src/report/html.js";
import { ROOT, runCli } from "./helpers/cli.js";

const CHROMIUM = process.env.COROPOOL_CHROMIUM ?? "/usr/bin/chromium";
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const IN_CI = process.env.CI === "true";
const MISSING = `no Chromium at ${CHROMIUM} (install Debian's chromium, e.g. 'apt-get install -y chromium', or set COROPOOL_CHROMIUM)`;
const SKIP_REASON = `HTML reports in headless Chromium: SKIPPED, ${MISSING}`;
if (!HAVE_CHROMIUM && !IN_CI) console.warn(SKIP_REASON);

/** Flags from the environment notes: no sandbox (root), nothing that would reach the network. */
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const SCREENSHOTS = join(ROOT, "reports", "screenshots");

const dir = mkdtempSync(join(tmpdir(), "coropool-browser-"));
function writeJson(name: string, value: object): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(value));
  return path;
}

function cli(args: string[]): string {
  const r = runCli(args, { timeoutMs: 120_000 });
  if (r.code !== 0 && r.code !== 3) throw new Error(`coropool ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

interface Opened {
  errors: string[];
  requests: string[];
  count: (selector: string) => Promise<number>;
  attribute: (selector: string, name: string) => Promise<(string | null)[]>;
  screenshot: () => Promise<Buffer>;
}

describe.skipIf(!HAVE_CHROMIUM && !IN_CI)(HAVE_CHROMIUM ? "HTML reports in headless Chromium" : SKIP_REASON, () => {
  let browser: Browser;
  const pages: Record<string, string> = {};

  beforeAll(async () => {
    if (!HAVE_CHROMIUM) throw new Error(`CI=true but ${MISSING}: .ci/run installs it with apt-get`);
    // stress: legacy aborts at the scenario's limit, batched completes.
    const stressJson = join(dir, "stress.json");
    writeFileSync(stressJson, cli(["stress", "--scenario", join(ROOT, "scenarios", "stress-small.json"), "--json"]));
    pages.stress = join(dir, "stress.html");
    cli(["report", stressJson, "-o", pages.stress]);
    // imbalance: 3 threads under 3 policies, report written during the run.
    const imbalanceScenario = writeJson("imbalance-scenario.json", { kind: "imbalance", threads: 3, burst: 300, rounds: 2, inFlight: 50, poolSizeIncrease: 64, maxMapCount: 100000 });
    pages.imbalance = join(dir, "imbalance.html");
    const imbalanceJson = cli(["imbalance", "--scenario", imbalanceScenario, "--report", pages.imbalance, "--json"]);
    // randread: 2 block sizes x 3 iodepths, legacy and batched.
    const randreadScenario = writeJson("randread-scenario.json", { kind: "randread", threads: 1, blockSizes: ["4k", "128k"], iodepths: [1, 2, 4], durationMs: 15 });
    pages.randread = join(dir, "randread.html");
    const randreadJson = cli(["randread", "--scenario", randreadScenario, "--report", pages.randread, "--json"]);
    // demo: the three documents nested as the demo nests them.
    const [stress, imbalance, randread] = [readFileSync(stressJson, "utf8"), imbalanceJson, randreadJson].map((t) => strip(JSON.parse(t)));
    const demo = demoDocument({ maxMapCount: 5600, stress, imbalance, randread } as never);
    pages.demo = join(dir, "demo.html");
    writeFileSync(pages.demo, renderReportHtml(demo));

    // plan: a command line with an IOThread's virtio-blk, planned for QEMU 7.2 at a limit every policy passes.
    const planArgs = join(dir, "vm.args");
    writeFileSync(planArgs, "qemu-system-x86_64 -smp 2 -object iothread,id=io0 -drive if=none,id=d0,file=/tmp/d0.img,format=raw -device virtio-blk-pci,drive=d0,iothread=io0,num-queues=2,queue-size=64\n");
    pages.plan = join(dir, "plan.html");
    cli(["plan", planArgs, "--qemu-version", "7.2", "--max-map-count", "700", "--report", pages.plan]);

    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
    mkdirSync(SCREENSHOTS, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  async function open(kind: string): Promise<Opened & { close: () => Promise<void> }> {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") errors.push(`${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
    page.on("request", (r) => requests.push(r.url()));
    const url = pathToFileURL(pages[kind]!).href;
    await page.goto(url, { waitUntil: "load" });
    return {
      errors,
      requests: requests.filter((r) => r !== url),
      count: (selector) => page.locator(selector).count(),
      attribute: (selector, name) => page.locator(selector).evaluateAll((els, n) => els.map((e) => e.getAttribute(n)), name),
      screenshot: async () => {
        const png = await page.screenshot({ fullPage: true, path: join(SCREENSHOTS, `${kind}.png`) });
        return png;
      },
      close: () => page.close(),
    };
  }

  /** Loaded cleanly: no console error or warning, no request but the page itself, a real PNG screenshot. */
  async function expectClean(p: Opened): Promise<void> {
    expect(p.errors).toEqual([]);
    expect(p.requests).toEqual([]);
    const png = await p.screenshot();
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.length).toBeGreaterThan(10_000);
  }

  it("stress: VMAs per policy with the limit and legacy's abort; pooled stacks per thread for each policy", async () => {
    const p = await open("stress");
    await expectClean(p);
    expect(await p.attribute('[data-chart="vmas"] [data-series]', "data-series")).toEqual(["legacy", "batched"]);
    expect(await p.attribute('[data-chart="vmas"] [data-limit]', "data-limit")).toEqual(["5600"]);
    expect(await p.attribute('[data-chart="vmas"] [data-abort]', "data-abort")).toEqual(["legacy"]);
    expect(await p.attribute('[data-chart="pooled"]', "data-policy")).toEqual(["legacy", "batched"]);
    for (const policy of ["legacy", "batched"]) {
      // 4 IOThreads and the shared pool.
      expect(await p.attribute(`[data-chart="pooled"][data-policy="${policy}"] [data-series]`, "data-series")).toEqual(["T0", "T1", "T2", "T3", "global"]);
    }
    expect(await p.count('[data-section="stress"] [data-table="parameters"]')).toBe(1);
    expect(await p.count('[data-section="machine"] table')).toBe(1);
    await p.close();
  });

  it("plan: the devices, the schedule, each policy's worst case with the limit and every abort", async () => {
    const p = await open("plan");
    await expectClean(p);
    const labels = ["legacy", "batched (uncapped)", "batched", "none", "elastic"];
    expect(await p.attribute('[data-chart="mapped"] [data-series]', "data-series")).toEqual(labels);
    expect(await p.attribute('[data-chart="mapped"] [data-limit]', "data-limit")).toEqual(["700"]);
    // 128 stacks over 371 + 256 VMAs pass 700 under every policy.
    expect(await p.attribute('[data-chart="mapped"] [data-abort]', "data-abort")).toEqual(labels);
    for (const table of ["plan-devices", "plan-schedule", "plan", "plan-parts"]) expect(await p.count(`[data-section="plan"] [data-table="${table}"]`), table).toBe(1);
    expect(await p.count('[data-table="plan"] tbody tr')).toBe(5);
    await p.close();
  });

  it("imbalance: three policies, each with its per-thread pooled picture", async () => {
    const p = await open("imbalance");
    await expectClean(p);
    expect(await p.attribute('[data-chart="vmas"] [data-series]', "data-series")).toEqual(["legacy", "batched", "none"]);
    expect(await p.count('[data-chart="vmas"] [data-abort]')).toBe(0);
    expect(await p.count('[data-chart="pooled"]')).toBe(3);
    for (const policy of ["legacy", "batched", "none"]) {
      expect(await p.count(`[data-chart="pooled"][data-policy="${policy}"] [data-series]`)).toBe(4);
    }
    // Every series has points: the time series made it from the run into the page.
    const points = await p.attribute('[data-chart] [data-series]', "data-points");
    expect(points.every((n) => Number(n) > 1)).toBe(true);
    await p.close();
  });

  it("randread: IOPS against iodepth, one chart per block size, one series per policy with a point per iodepth", async () => {
    const p = await open("randread");
    await expectClean(p);
    expect(await p.attribute('[data-chart="iops"]', "data-block-size")).toEqual(["4k", "128k"]);
    for (const bs of ["4k", "128k"]) {
      expect(await p.attribute(`[data-chart="iops"][data-block-size="${bs}"] [data-series]`, "data-series")).toEqual(["legacy", "batched"]);
      expect(await p.attribute(`[data-chart="iops"][data-block-size="${bs}"] [data-series]`, "data-points")).toEqual(["3", "3"]);
    }
    expect(await p.count('[data-table="latency"] tbody tr')).toBe(6);
    await p.close();
  });

  it("demo: the three sections with their charts, then the machine", async () => {
    const p = await open("demo");
    await expectClean(p);
    expect(await p.attribute("[data-section]", "data-section")).toEqual(["stress", "imbalance", "randread", "machine"]);
    expect(await p.count('[data-section="stress"] [data-chart="vmas"] [data-series]')).toBe(2);
    expect(await p.count('[data-section="imbalance"] [data-chart="vmas"] [data-series]')).toBe(3);
    expect(await p.count('[data-section="randread"] [data-chart="iops"]')).toBe(2);
    await p.close();
  });
});

/** A command's document as the demo nests it: without schemaVersion and machine. */
function strip(doc: ResultDocument): never {
  const { schemaVersion: _v, machine: _m, ...report } = doc as ResultDocument & Record<string, unknown>;
  return report as never;
}
