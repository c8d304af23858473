#!/usr/bin/env node
/**
 * npm run validate:qemu — coropool's predictions against a real QEMU.
 *
 * Boots Debian's QEMU 7.2 (the legacy pool) and QEMU 10.0 from
 * bookworm-backports (the batched pool, run from a folder of its own, the
 * system's QEMU untouched) under TCG, with a guest built here: the host's
 * Debian kernel and a busybox initramfs that loads the virtio or NVMe
 * drivers and runs random 4 KiB O_DIRECT reads through Linux native AIO.
 * QEMU logs every coroutine enter and terminate (-msg timestamp=on); while it
 * runs, its real coroutine stacks are counted in /proc/PID/maps (a 4 KiB
 * ---p guard directly below a 1 MiB rw-p stack; see countStacks in guest-harness.mjs) every 50 ms. After the load,
 * the log up to the last sample is replayed with coropool's engine (legacy
 * for 7.2, batched uncapped for 10.0, as QEMU runs on Linux) and the stacks
 * it predicts are compared with the stacks QEMU really had.
 *
 * Before the load, while the guest idles, QEMU's maps are counted once more:
 * every VMA less 2 per coroutine stack is what QEMU maps besides its stacks,
 * printed beside QEMU_BASELINE_VMAS (src/vma/limits.ts), the baseline a
 * replay assumes unless told.
 *
 * QEMU 10.0 comes from the system's own Debian mirror: the bookworm entry of
 * its apt sources gives the URI and Signed-By (apt-sources.mjs), and apt-get
 * runs with a sources list, lists and cache of its own under the work folder.
 *
 * Exit: 0 every prediction within 2 stacks, 1 one is not, 2 cannot run here
 * (a missing package: one line names the apt-get install; no apt source for
 * bookworm, or no network: one line says so).
 * Changes no system setting; downloads go to a folder under the temp dir.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ownAptState } from "./apt-sources.mjs";
import { buildGuest, CONFIGS, diskImage, GUEST_APT_INSTALL, linesUpTo, missingGuestTools, onPath, runQemu } from "./guest-harness.mjs";
import { checkPlan, planTable, preparePlanCheck, startPlanCheck } from "./plan-check.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "..", "..");
const WORK = process.env.COROPOOL_VALIDATE_DIR ?? join(tmpdir(), "coropool-validate-qemu");
const TOLERANCE = 2;
const APT_INSTALL = `${GUEST_APT_INSTALL} qemu-system-x86`;

async function main() {
  const missing = missingTools();
  if (missing.length > 0) {
    console.log(`validate:qemu: cannot run here (missing ${missing.join(", ")}); install with: ${APT_INSTALL}`);
    return 2;
  }
  const { replayLog } = await import(join(ROOT, "dist", "src", "replay", "replay-log.js"));
  const { poolIncreaseFor } = await import(join(ROOT, "dist", "src", "replay", "pool-increase.js"));
  const { QEMU_BASELINE_VMAS } = await import(join(ROOT, "dist", "src", "vma", "limits.js"));
  await preparePlanCheck(ROOT);
  mkdirSync(WORK, { recursive: true });
  const guest = buildGuest(WORK);
  let qemu10;
  try {
    qemu10 = backportsQemu();
  } catch (err) {
    // No network, no mirror: a machine that cannot fetch QEMU 10.0 cannot run the check; nothing failed.
    console.log(`validate:qemu: cannot run here (QEMU 10.0 from bookworm-backports could not be downloaded: ${err instanceof Error ? err.message.split("\n")[0] : String(err)})`);
    return 2;
  }
  const qemus = [
    { label: "QEMU 7.2 (Debian)", policy: "legacy", ...systemQemu() },
    { label: "QEMU 10.0 (bookworm-backports)", policy: "batched", ...qemu10 },
  ];
  const images = [0, 1].map((i) => diskImage(WORK, i));
  const rows = [];
  for (const config of CONFIGS) {
    for (const qemu of qemus) {
      process.stderr.write(`validate:qemu: ${config.name} on ${qemu.label}...\n`);
      const run = await runQemu(qemu, config, guest, images, WORK, { onIdle: startPlanCheck });
      const poolIncrease = poolIncreaseFor(config.virtioBlk.map(([numQueues, queueSize]) => ({ numQueues, queueSize })));
      const { outcomes, input } = await replayLog(
        { lines: linesUpTo(run.log, run.endMicros) },
        { policies: [{ policy: qemu.policy, uncapped: true }], maxMapCount: 65530, baselineVmas: 0, poolIncrease, source: run.log },
      );
      const r = outcomes[0].result;
      const predicted = r.live + r.pooled.global + r.pooled.threads.reduce((a, b) => a + b, 0);
      rows.push({
        config: config.name,
        qemu: qemu.label,
        policy: `${qemu.policy}${qemu.policy === "batched" ? " (uncapped)" : ""}`,
        poolIncrease,
        lines: input.lines,
        measured: run.endStacks,
        predicted,
        sampledPeak: run.peakStacks,
        predictedPeak: r.peak.stacks,
        idle: run.idleBaseline,
        ok: Math.abs(predicted - run.endStacks) <= TOLERANCE,
        watch: watchAgrees(run, qemu.policy),
        plan: await checkPlan(run.idleBaseline?.extra, { policy: qemu.policy, sampledPeak: run.peakStacks, poolIncrease }),
      });
    }
  }
  console.log(table(rows, QEMU_BASELINE_VMAS));
  for (const r of rows) console.log(`watch on ${r.config} / ${r.qemu}: ${r.watch.text}`);
  console.log(`plan --pid of each QEMU (read at idle) against its real peak:\n${planTable(rows)}`);
  const bad = rows.filter((r) => !r.ok || !r.watch.ok || !r.plan.ok);
  console.log(bad.length === 0 ? `validate:qemu: all ${rows.length} predictions within ${TOLERANCE} stacks of QEMU's real count` : `validate:qemu: ${bad.length} of ${rows.length} predictions off by more than ${TOLERANCE} stacks`);
  return bad.length === 0 ? 0 : 1;
}

/**
 * `coropool watch`'s snapshot of the same QEMU beside the harness's reads: at
 * idle nothing moves, so the counts are equal; after the load, within
 * TOLERANCE (a pool may still settle between the two reads). Its version
 * must give the policy the harness replays with.
 */
function watchAgrees(run, policy) {
  const idle = run.idleBaseline;
  const want = policy === "batched" ? "batched (uncapped)" : policy;
  const idleOk = idle !== null && idle.watch.stacks === idle.stacks;
  const endOk = run.endWatch.stacks !== null && Math.abs(run.endWatch.stacks - run.endStacks) <= TOLERANCE;
  const policyOk = run.endWatch.policy === want;
  const text = `idle ${idle === null ? "?" : `${idle.watch.stacks} (harness ${idle.stacks})`}, end ${run.endWatch.stacks} (harness ${run.endStacks}), QEMU ${run.endWatch.qemuVersion} -> ${run.endWatch.policy}`;
  return { ok: idleOk && endOk && policyOk, text: `${text}: ${idleOk && endOk && policyOk ? "ok" : "MISMATCH"}` };
}

function missingTools() {
  const missing = missingGuestTools();
  if (!existsSync("/usr/bin/qemu-system-x86_64")) missing.unshift("qemu-system-x86");
  for (const tool of ["apt-get", "dpkg"]) if (!onPath(tool)) missing.push(tool);
  return missing;
}

function systemQemu() {
  return { binary: "/usr/bin/qemu-system-x86_64", extraArgs: [] };
}

/**
 * QEMU 10.0 from bookworm-backports, unpacked into a folder: apt-get with its
 * own sources list, lists and cache under WORK (the system's apt sources and
 * state are not touched), `apt-get download`, then `dpkg -x`.
 */
function backportsQemu() {
  const root = join(WORK, "qemu10");
  const binary = join(root, "usr", "bin", "qemu-system-x86_64");
  if (!existsSync(binary)) {
    const apt = join(WORK, "apt");
    const options = ownAptState(apt, "bookworm-backports");
    mkdirSync(join(apt, "debs"), { recursive: true });
    execFileSync("apt-get", [...options, "update"], { stdio: ["ignore", "ignore", "inherit"] });
    const packages = ["qemu-system-x86", "qemu-system-common", "qemu-system-data"].map((p) => `${p}/bookworm-backports`);
    execFileSync("apt-get", [...options, "download", ...packages], { cwd: join(apt, "debs"), stdio: ["ignore", "ignore", "inherit"] });
    for (const deb of readdirSync(join(apt, "debs")).filter((f) => f.endsWith(".deb"))) execFileSync("dpkg", ["-x", join(apt, "debs", deb), root]);
  }
  return { binary, extraArgs: ["-L", join(root, "usr", "share", "qemu"), "-L", "/usr/share/seabios"] };
}

function table(rows, baselineConstant) {
  const header = ["configuration", "QEMU", "policy", "inc", "log lines", "measured", "predicted", "diff", "sampled peak", "predicted peak", "", "idle VMAs", "idle stacks", "idle baseline", "QEMU_BASELINE_VMAS"];
  const idle = (r, key) => (r.idle === null ? "?" : r.idle[key]);
  const body = rows.map((r) => [r.config, r.qemu, r.policy, r.poolIncrease, r.lines, r.measured, r.predicted, r.predicted - r.measured, r.sampledPeak, r.predictedPeak, r.ok ? "ok" : "MISMATCH", idle(r, "vmas"), idle(r, "stacks"), idle(r, "baseline"), baselineConstant]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => String(row[i]).length)));
  const fmt = (row) => "| " + row.map((c, i) => String(c).padEnd(widths[i])).join(" | ") + " |";
  return [fmt(header), "|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|", ...body.map(fmt)].join("\n");
}

main().then(
  (code) => (process.exitCode = code),
  (err) => {
    console.error(`validate:qemu: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
