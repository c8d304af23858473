import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./helpers/cli.js";

// The bench code runs in tiny budgets so it cannot rot; no figure is judged here.
const BENCH = join(ROOT, "dist", "bench", "run.js");

function runBench(args: string[]) {
  const r = spawnSync(process.execPath, [BENCH, ...args], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Rows of the markdown table that follows `heading` (header and separator dropped). */
function tableAfter(text: string, heading: string): string[][] {
  const start = text.indexOf(heading);
  expect(start, `section '${heading}'`).toBeGreaterThanOrEqual(0);
  const lines = text.slice(start).split("\n");
  const first = lines.findIndex((l) => l.startsWith("|"));
  const rows: string[][] = [];
  for (let i = first + 2; i < lines.length && lines[i]!.startsWith("|"); i++) {
    rows.push(lines[i]!.split("|").slice(1, -1).map((c) => c.trim()));
  }
  return rows;
}

/** The text of one suite's section: from its heading to the next suite's. */
function sectionOf(text: string, heading: string): string {
  const start = text.indexOf(heading);
  expect(start, `section '${heading}'`).toBeGreaterThanOrEqual(0);
  const next = text.indexOf("\n## ", start + heading.length);
  return text.slice(start, next === -1 ? undefined : next);
}

const FIGURE = /^-?\d+(\.\d+)?( ns| us|x|%)?$/;

describe("bench smoke test (--quick, nothing written)", () => {
  const r = runBench(["--quick"]);

  it("runs every suite and exits 0", () => {
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    for (const s of ["micro", "pool", "mutex", "stacks", "randread", "figures", "import", "elastic", "watch"]) expect(r.stderr).toContain(`bench: ${s}...`);
  });

  it("prints the micro table with a finite figure per policy", () => {
    const rows = tableAfter(r.stdout, "## Coroutine micro benchmarks");
    expect(rows.map((row) => row[0])).toEqual(["lifecycle", "yield", "cost", "nesting", "function call"]);
    for (const row of rows.slice(0, 4)) for (const cell of row.slice(1)) expect(cell).toMatch(FIGURE);
  });

  it("prints the pool, mutex and stacks tables with finite figures", () => {
    expect(tableAfter(r.stdout, "## Pool get + put").map((row) => row[0])).toEqual(["legacy", "batched", "bare pop/push"]);
    for (const row of tableAfter(r.stdout, "## Pool get + put")) expect(row[1]).toMatch(FIGURE);
    for (const row of tableAfter(r.stdout, "## Global-pool mutex")) expect(row[1]).toMatch(FIGURE);
    expect(tableAfter(r.stdout, "## Stack map + unmap")[0]![1]).toMatch(FIGURE);
  });

  it("prints the seed's randread table shape", () => {
    const section = r.stdout.slice(r.stdout.indexOf("## randread"));
    const table = section.slice(section.indexOf("RW "), section.indexOf("\n## "));
    const [header, ...rows] = table.split("\n").filter((l) => l.startsWith("RW ") || l.startsWith("randread"));
    expect(header!.split(/\s+/).slice(0, 6)).toEqual(["RW", "BLKSIZE", "IODEPTH", "OLD", "NEW", "CHANGE"]);
    expect(rows.length).toBe(2);
    for (const row of rows) {
      const [rw, bs, depth, old, now, change] = row.split(/\s+/);
      expect([rw, bs]).toEqual(["randread", "4k"]);
      expect(Number(depth)).toBeGreaterThan(0);
      expect(Number(old)).toBeGreaterThan(0);
      expect(Number(now)).toBeGreaterThan(0);
      expect(change).toMatch(/^[+-]\d+\.\d%$/);
    }
  });

  it("prints the exhaustion and imbalance figures for every policy", () => {
    const rows = tableAfter(r.stdout, "## Imbalance and exhaustion figures");
    expect(rows.map((row) => row[0])).toEqual(["legacy", "batched", "none"]);
    for (const row of rows) for (const i of [2, 3, 4, 5, 6]) expect(Number(row[i])).toBeGreaterThanOrEqual(0);
  });

  it("prints elastic's side-by-side table: the four configurations, every scenario and a verdict per target", () => {
    const section = sectionOf(r.stdout, "## Beyond 9.0");
    const header = section.split("\n").find((l) => l.startsWith("|  |"))!;
    expect(header.split("|").map((c) => c.trim()).filter((c) => c !== "")).toEqual(["legacy", "batched", "batched --uncapped", "elastic"]);
    for (const scenario of ["bug-report stress at 65530", "imbalance", "burst-idle", "thread-churn soak"]) expect(section).toContain(`**${scenario}**`);
    expect(section.split("\n").filter((l) => /: (met|MISSED)/.test(l)).length).toBe(8);
  });

  it("prints the replay speeds: every input with a rate, and the log target's verdict from its own figure", () => {
    const rows = tableAfter(r.stdout, "## Replay speed");
    expect(rows).toHaveLength(6);
    for (const row of rows) expect(row[4]).toMatch(/^\d+\.\d\d M\/s$/);
    const rate = Number(rows[0]![4]!.split(" ")[0]);
    expect(r.stdout).toContain(`lines a second end to end (gzip, read, inflate, parse, replay legacy): **${rate >= 5 ? "met" : "not met"}**, ${rows[0]![4]} warm.`);
  });

  it("prints the stress's bursts replayed in fixed orders, a peak per configuration", () => {
    const fixed = tableAfter(r.stdout, "## Beyond 9.0").filter((row) => row[0]!.startsWith("peak VMAs, the same bursts replayed"));
    expect(fixed).toHaveLength(2);
    for (const row of fixed) expect(row.slice(1)).toEqual([expect.stringMatching(/^\d+ \(aborts\)$/), expect.stringMatching(/^\d+$/), expect.stringMatching(/^\d+$/), expect.stringMatching(/^\d+$/)]);
  });

  it("prints the real QEMU logs under every configuration: peak / stacks at the end, none aborted", () => {
    const section = sectionOf(r.stdout, "## Beyond 9.0");
    const rows = tableAfter(section, "Real QEMU logs");
    expect(rows.map((row) => row[0])).toEqual(["virtio-p1", "virtio-p2-timestamped", "nvme-n2", "qemu10-virtio-p", "qemu10-nvme-np"].map((f) => `${f}.trace.log.gz`));
    for (const row of rows) for (const c of row.slice(4)) expect(c).toMatch(/^\d+ \/ \d+$/);
    expect(rows.map((row) => row[3])).toEqual(["events", "times", "events", "times", "times"]);
    expect(section).toContain("No replay aborted at 65530.");
  });

  it("prints the watch table: a row per set, its snapshot against cat and the raw read, a watch's CPU share, a verdict each", () => {
    const rows = tableAfter(r.stdout, "## Watch:");
    expect(rows.map((row) => row[0])).toEqual(["1 of 2,000", "2 of 200"]);
    for (const row of rows) {
      expect(row.slice(3, 6)).toEqual([expect.stringMatching(/^\d+\.\d\d ms$/), expect.stringMatching(/^\d+\.\d\d ms$/), expect.stringMatching(/^\d+\.\d\d ms$/)]);
      expect(row.slice(6, 8)).toEqual([expect.stringMatching(/^\d+\.\d\dx$/), expect.stringMatching(/^\d+\.\d\dx$/)]);
      for (const cell of row.slice(8)) expect(cell).toMatch(/^\d+\.\d%$/);
    }
    expect(sectionOf(r.stdout, "## Watch:").split("\n").filter((l) => /^- \d+ of [\d,]+: snapshot\/cat \d+\.\d\dx, target at most 1\.5x: (met|MISSED)\.$/.test(l))).toHaveLength(2);
  });

  it("against an older build: a row per policy, old and new figures side by side", () => {
    // This build's own dist stands in for the older one: the suite loads it by path.
    const against = runBench(["against", join(ROOT, "dist"), "--quick"]);
    expect(against.code).toBe(0);
    const rows = tableAfter(against.stdout, "## Same-thread lifecycle: this build against an older one");
    expect(rows.map((row) => row[0])).toEqual(["legacy", "batched", "none", "elastic"]);
    for (const row of rows) for (const cell of row.slice(1)) expect(cell).toMatch(FIGURE);
  });

  it("refuses against without a build's dist folder, with exit 2", () => {
    const none = runBench(["against", "--quick"]);
    expect([none.code, none.stderr]).toEqual([2, "bench: against needs a folder; allowed: against DIST, DIST an older build's dist folder\n"]);
    const notDist = runBench(["against", join(ROOT, "test"), "--quick"]);
    expect(notDist.code).toBe(2);
    expect(notDist.stderr).toBe(`bench: against: '${join(ROOT, "test")}' has no bench/fixture.js; allowed: the dist folder of an older coropool build (npm run build writes it)\n`);
  });

  it("refuses an unknown suite with exit 2", () => {
    const bad = runBench(["nosuch", "--quick"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("unknown suite 'nosuch'; allowed: micro, pool, mutex, stacks, randread, figures");
  });
});
