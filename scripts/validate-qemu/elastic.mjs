#!/usr/bin/env node
/**
 * npm run validate:qemu:elastic — elastic in a real QEMU.
 *
 * Builds QEMU 10.0.2 twice with the same flags, unpatched and with the
 * series in qemu/patches/ (qemu-build.mjs: fetched through apt, checked,
 * cached by the series' hash), then:
 *
 * 1. QEMU's own tests/unit/test-coroutine, on both builds: it must pass
 *    patched.
 * 2. `test-coroutine -m perf` (lifecycle, yield, cost, nesting), the two
 *    builds taking turns, pinned to one CPU (taskset), several runs each
 *    (PERF_TESTS): medians side by side. Run last, after the guests.
 * 3. validate:qemu's guest configurations and a deeper burst (guest-harness.mjs: TCG, busybox
 *    initramfs, O_DIRECT native-AIO reads, /proc/PID/maps every 50 ms) on
 *    both builds. The patched QEMU also traces its pool's operations; its
 *    log is replayed under coropool's elastic on QEMU's own decay clock,
 *    checked step by step against those events, and at every idle point
 *    (0.5 s after each phase of load, the end of each quiet pause, the end
 *    of the quiet period after the load) the replay's stacks must be within
 *    2 of the stacks QEMU had mapped; the replay's peak must be at least the
 *    sampled one. The unpatched QEMU is replayed under batched (uncapped,
 *    as QEMU runs on Linux), as validate:qemu does. At the end of each quiet
 *    period the patched QEMU must hold no more than the bound of
 *    docs/beyond-9.0.md, (2 × threads + 1) × 128 stacks besides the live
 *    ones, where the unpatched one keeps what it had.
 *
 * The results (a Markdown report) are printed and written to
 * WORK/ELASTIC-RESULTS.md first; the verdict comes after.
 *
 * Exit: 0 every check passed, 1 one did not, 2 cannot run here (one line: a
 * missing package and the apt-get line, or no way to fetch the source).
 * Changes no system setting; everything goes to the work folder
 * (COROPOOL_QEMU_ELASTIC_DIR, else coropool-qemu-elastic under the temp dir).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { release, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildGuest, CONFIGS, diskImage, GUEST_APT_INSTALL, linesUpTo, missingGuestTools, onPath, runQemu, virtioDevices } from "./guest-harness.mjs";
import { BUILD_PACKAGES, buildBoth, CannotBuild, CONFIGURE_FLAGS, missingBuildTools, QEMU_VERSION } from "./qemu-build.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "..", "..");
const WORK = process.env.COROPOOL_QEMU_ELASTIC_DIR ?? join(tmpdir(), "coropool-qemu-elastic");
const PATCHES = join(ROOT, "qemu", "patches");
const TOLERANCE = 2;
/** The CPU both builds' perf runs are pinned to. */
const PERF_CPU = "1";
/**
 * QEMU's perf tests, each run on its own (`-p`), the builds taking turns.
 * nesting (10,000 trees of 1,000 nested coroutines) maps and unmaps some
 * 600 stacks a tree on both builds: minutes a run here, so fewer runs.
 */
const PERF_TESTS = [
  { name: "lifecycle", runs: 5, timeoutS: 120, pattern: /Lifecycle \d+ iterations: ([\d.]+) s/ },
  { name: "yield", runs: 5, timeoutS: 300, pattern: /Yield \d+ iterations: ([\d.]+) s/ },
  { name: "cost", runs: 5, timeoutS: 300, pattern: /Run operation \d+ iterations ([\d.]+) s/ },
  { name: "nesting", runs: 1, timeoutS: 900, pattern: /Nesting \d+ iterations of \d+ depth each: ([\d.]+) s/ },
];
/** Stacks per batch, as in QEMU and coropool. */
const BATCH = 128;
/**
 * validate:qemu's configurations, and a deeper burst: two jobs of 512 on one
 * virtio-blk (2 queues x 512, one IOThread), so that some 1,024 coroutines
 * run on one thread and the global pool fills to its max (128 + 512) before
 * a quiet period eight decay periods long.
 */
const ELASTIC_CONFIGS = [
  ...CONFIGS,
  {
    name: "deep-burst-quiet",
    what: "1 virtio-blk (2 queues x 512) on an IOThread: two jobs of 512 at once, 2 s quiet, a light load",
    devices: virtioDevices([2, 512]),
    virtioBlk: [[2, 512]],
    phases: "vda:512:2+vda:512:2,sleep:2,vda:32:1",
  },
];

async function main() {
  const missing = [...missingBuildTools(), ...missingGuestTools(), ...(onPath("taskset") ? [] : ["taskset"])];
  if (missing.length > 0) {
    console.log(`validate:qemu:elastic: cannot run here (missing ${missing.join(", ")}); install with: ${BUILD_PACKAGES} ${GUEST_APT_INSTALL.replace("apt-get install ", "")} util-linux`);
    return 2;
  }
  mkdirSync(WORK, { recursive: true });
  let builds;
  try {
    builds = buildBoth(WORK, PATCHES, (line) => process.stderr.write(`validate:qemu:elastic: ${line}\n`));
  } catch (err) {
    if (!(err instanceof CannotBuild)) throw err;
    console.log(`validate:qemu:elastic: cannot run here (${err.message})`);
    return 2;
  }
  const { replayLog } = await import(join(ROOT, "dist", "src", "replay", "replay-log.js"));
  const { poolIncreaseFor } = await import(join(ROOT, "dist", "src", "replay", "pool-increase.js"));
  const { Thread } = await import(join(ROOT, "dist", "src", "shared", "layout.js"));
  const maxMapCount = Number(readFileSync("/proc/sys/vm/max_map_count", "utf8").trim());

  progress("tests/unit/test-coroutine on both builds");
  const unit = { unpatched: unitTest(builds.unpatched), patched: unitTest(builds.patched) };
  const qemus = [
    { label: "unpatched", policy: "batched", binary: builds.unpatched.qemu, extraArgs: romArgs(), replayAs: { policy: "batched", uncapped: true }, decayClock: "events" },
    {
      label: "patched",
      policy: "elastic",
      binary: builds.patched.qemu,
      extraArgs: romArgs(),
      traceEvents: ["qemu_coroutine_pool_*"],
      replayAs: { policy: "elastic" },
      decayClock: "qemu",
    },
  ];
  const guest = buildGuest(WORK);
  const images = [0, 1].map((i) => diskImage(WORK, i));
  const runs = [];
  for (const config of ELASTIC_CONFIGS) {
    const poolIncrease = poolIncreaseFor(config.virtioBlk.map(([numQueues, queueSize]) => ({ numQueues, queueSize })));
    for (const qemu of qemus) {
      progress(`${config.name} on the ${qemu.label} build`);
      const run = await runQemu(qemu, config, guest, images, WORK);
      const replayAt = async (micros) => {
        const { outcomes, input } = await replayLog(
          { lines: linesUpTo(run.log, micros) },
          { policies: [qemu.replayAs], maxMapCount, baselineVmas: 0, poolIncrease, source: run.log, decayClock: qemu.decayClock },
        );
        const o = outcomes[0];
        const r = o.result;
        const pooled = r.pooled.global + r.pooled.threads.reduce((a, b) => a + b, 0);
        let holders = 0;
        for (let t = 0; t < o.region.threadCapacity; t++) holders += o.region.threadWord(t, Thread.CLEANUP_REGISTERED);
        return { stacks: r.live + pooled, live: r.live, global: r.pooled.global, created: r.stacksCreated, peak: o.peak.stacks, locks: o.globalLockAcquisitions, steps: o.qemuSteps, holders, lines: input.lines };
      };
      const points = [];
      for (const p of run.idlePoints) points.push({ ...p, replay: await replayAt(p.micros) });
      // Stacks QEMU mapped before its log began (at realize): its count before the load less the replay's then.
      const before = run.idleBaseline;
      const unseen = before === null ? null : before.stacks - (await replayAt(before.micros)).stacks;
      const last = run.idlePoints.at(-1);
      const whole = await replayAt(Math.max(run.endMicros, last?.micros ?? 0));
      runs.push({ config, qemu, run, points, whole, poolIncrease, unseen });
    }
  }

  // Results first: the report is written as it grows, so a finished part is never lost to what comes after.
  const checks = checksOf(unit, runs);
  const perf = [];
  const write = () => writeFileSync(join(WORK, "ELASTIC-RESULTS.md"), reportOf({ builds, unit, perf, runs, checks, maxMapCount }));
  write();
  // Last, on an otherwise quiet machine: the guests are done.
  for (const test of PERF_TESTS) {
    progress(`test-coroutine -m perf -p /perf/${test.name}, ${test.runs} run(s) each, pinned to CPU ${PERF_CPU}`);
    perf.push(perfSideBySide(builds, test));
    write();
  }
  console.log(reportOf({ builds, unit, perf, runs, checks, maxMapCount }));
  const failed = checks.filter((c) => !c.ok);
  console.log(failed.length === 0 ? `validate:qemu:elastic: all ${checks.length} checks passed` : `validate:qemu:elastic: ${failed.length} of ${checks.length} checks failed`);
  return failed.length === 0 ? 0 : 1;
}

function progress(line) {
  process.stderr.write(`validate:qemu:elastic: ${line}...\n`);
}

/** Both builds boot with Debian's firmware (qemu-system-data, seabios); the NIC ROMs are not installed, so no NIC. */
function romArgs() {
  return ["-L", "/usr/share/qemu", "-L", "/usr/share/seabios", "-nic", "none"];
}

/** QEMU's own coroutine tests (no perf): whether they pass, and their last line. */
function unitTest(build) {
  try {
    const out = execFileSync(build.testCoroutine, [], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 300_000 });
    const passed = (out.match(/^ok /gm) ?? []).length;
    return { ok: true, text: `${passed} tests ok` };
  } catch (err) {
    return { ok: false, text: `failed (exit ${err.status ?? err.signal}): ${`${err.stdout ?? ""}${err.stderr ?? ""}`.trim().split("\n").slice(-3).join(" / ")}` };
  }
}

/**
 * One perf test, its runs on each build taking turns on one pinned CPU: the
 * seconds of every run and the medians; `error` if a run failed or outlived
 * the test's time limit.
 */
function perfSideBySide(builds, t) {
  const runs = { unpatched: [], patched: [] };
  try {
    for (let run = 0; run < t.runs; run++) {
      for (const which of ["unpatched", "patched"]) {
        const args = ["-c", PERF_CPU, builds[which].testCoroutine, "-m", "perf", "-p", `/perf/${t.name}`];
        const out = execFileSync("taskset", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: t.timeoutS * 1000 });
        const m = t.pattern.exec(out);
        if (m === null) throw new Error(`printed no time`);
        runs[which].push(Number(m[1]));
      }
    }
  } catch (err) {
    const why = err?.signal === "SIGTERM" ? `a run outlived ${t.timeoutS} s` : err instanceof Error ? err.message.split("\n")[0] : String(err);
    return { name: t.name, runs, error: why };
  }
  const unpatched = median(runs.unpatched);
  const patched = median(runs.patched);
  return { name: t.name, unpatched, patched, ratio: patched / unpatched, runs, error: null };
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * The checks: the unit test patched; at every idle point the replay within
 * TOLERANCE of QEMU's stacks (both builds); the replay's peak at least the
 * sampled one; and at the end of each quiet period the patched QEMU within
 * the bound of docs/beyond-9.0.md.
 */
function checksOf(unit, runs) {
  const checks = [{ what: "test-coroutine passes patched", ok: unit.patched.ok }];
  for (const { config, qemu, run, points, whole, unseen } of runs) {
    for (const p of points) {
      checks.push({ what: `${config.name} / ${qemu.label} / ${p.what}: replay ${p.replay.stacks}, QEMU ${p.stacks}`, ok: Math.abs(p.replay.stacks - p.stacks) <= TOLERANCE });
    }
    // The replay cannot see stacks mapped before the log began (QEMU's count before the load says how
    // many), nor a coroutine created and not yet entered (the log has no creation: the replay creates
    // at the first enter), so the peak is held to the idle points' tolerance too.
    const seen = unseen === null ? "QEMU's count before the load unknown" : `+ ${unseen} mapped before the log began`;
    checks.push({
      what: `${config.name} / ${qemu.label}: replay's peak ${whole.peak} (${seen}) >= sampled ${run.peakStacks} - ${TOLERANCE}`,
      ok: unseen !== null && whole.peak + unseen >= run.peakStacks - TOLERANCE,
    });
    if (qemu.label !== "patched") continue;
    for (const p of points.filter((q) => !q.what.includes("after phase"))) {
      const bound = decayBound(p.replay);
      checks.push({ what: `${config.name} / patched / ${p.what}: ${p.stacks} stacks within the bound ${bound}`, ok: p.stacks <= bound });
    }
  }
  return checks;
}

/** docs/beyond-9.0.md's bound after a quiet period: one global batch and two local batches per thread holding a local pool, besides the live coroutines. */
function decayBound(replay) {
  return (2 * replay.holders + 1) * BATCH + replay.live;
}

function reportOf({ builds, unit, perf, runs, checks, maxMapCount }) {
  const out = [];
  out.push(`# validate:qemu:elastic — elastic in a real QEMU`, "");
  out.push(`Run ${new Date().toISOString().replace(/\.\d+Z$/, "Z")}: QEMU ${QEMU_VERSION} (Debian's qemu_${QEMU_VERSION}+ds.orig.tar.xz, SHA-256 checked against the bookworm-backports Sources index), built here twice with \`configure ${CONFIGURE_FLAGS.join(" ")}\`: unpatched, and with qemu/patches/ (series hash ${builds.series.hash}: ${builds.series.files.map((f) => f.split("/").at(-1)).join(", ")}). Host kernel ${release()}, max_map_count ${maxMapCount}, TCG.`, "");
  out.push(`## tests/unit/test-coroutine`, "", `- unpatched: ${unit.unpatched.ok ? "pass" : "FAIL"} (${unit.unpatched.text})`, `- patched: ${unit.patched.ok ? "pass" : "FAIL"} (${unit.patched.text})`, "");
  out.push(`## test-coroutine -m perf (medians; the builds taking turns, pinned to CPU ${PERF_CPU})`, "");
  const perfRow = (p) =>
    p.error === null
      ? [p.name, String(p.runs.unpatched.length), p.unpatched.toFixed(4), p.patched.toFixed(4), `${p.ratio.toFixed(3)}×`, p.runs.unpatched.join(" "), p.runs.patched.join(" ")]
      : [p.name, String(p.runs.unpatched.length), "–", "–", `not measured: ${p.error}`, p.runs.unpatched.join(" "), p.runs.patched.join(" ")];
  const pending = PERF_TESTS.slice(perf.length).map((t) => [t.name, "", "", "", "(not run yet)", "", ""]);
  out.push(table(["test", "runs", "unpatched (s)", "patched (s)", "patched / unpatched", "runs unpatched", "runs patched"], [...perf.map(perfRow), ...pending]), "");
  out.push(`## The same load on both builds`, "");
  out.push(
    "Peak: QEMU's sampled peak (every 50 ms) / the replay's. Before the log: stacks QEMU had mapped before its log began (its count before the load less the replay's then), which no replay can see. End: QEMU's stacks at the end of the quiet period after the load. Created: stacks the replay created over the log. Lock: global-lock acquisitions of pool operations — patched: counted from QEMU's own trace events (the replay's count beside it); unpatched: the batched replay's count (the unpatched QEMU traces no pool operation). Steps: the patched QEMU's global pool after each traced pool operation, equal to the replay's (of those compared).",
    "",
  );
  out.push(
    table(
      ["configuration", "build", "replayed as", "peak (QEMU / replay)", "before the log", "end", "created", "lock acquisitions", "steps equal", "decay freed (QEMU / replay)"],
      runs.map(({ config, qemu, run, points, whole, unseen }) => {
        const end = points.at(-1);
        const s = whole.steps;
        return [
          config.name,
          qemu.label,
          qemu.replayAs.policy + (qemu.replayAs.uncapped ? " (uncapped)" : ""),
          `${run.peakStacks} / ${whole.peak}`,
          unseen === null ? "?" : String(unseen),
          end === undefined ? "?" : String(end.stacks),
          String(whole.created),
          s === null ? `${whole.locks} (replay)` : `${s.lockAcquisitions} (replay ${whole.locks})`,
          s === null ? "–" : `${s.exact} / ${s.checked}${s.maxDiff === 0 ? "" : ` (max diff ${s.maxDiff}, first at line ${s.firstDiffLine})`}`,
          s === null ? "–" : `${s.qemuDecayFreed} / ${s.replayDecayFreed}`,
        ];
      }),
    ),
    "",
  );
  out.push(`## Every idle point: QEMU's stacks and the replay's`, "");
  out.push(
    table(
      ["configuration", "build", "idle point", "QEMU", "replay", "diff", "global (replay)", "bound (patched)"],
      runs.flatMap(({ config, qemu, points }) =>
        points.map((p) => [config.name, qemu.label, p.what, String(p.stacks), String(p.replay.stacks), String(p.replay.stacks - p.stacks), String(p.replay.global), qemu.label === "patched" ? String(decayBound(p.replay)) : ""]),
      ),
    ),
    "",
  );
  out.push(`## Checks`, "", ...checks.map((c) => `- ${c.ok ? "ok" : "FAILED"}: ${c.what}`), "");
  return out.join("\n");
}

function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (row) => "| " + row.map((c, i) => c.padEnd(widths[i])).join(" | ") + " |";
  return [fmt(header), "|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|", ...rows.map(fmt)].join("\n");
}

main().then(
  (code) => (process.exitCode = code),
  (err) => {
    console.error(`validate:qemu:elastic: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
