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
 * ---p guard directly below a 1 MiB rw-p stack; see countStacks) every 50 ms. After the load,
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
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, copyFileSync, createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { releaseMirror, suiteSource } from "./apt-sources.mjs";
import { checkPlan, planTable, preparePlanCheck, startPlanCheck } from "./plan-check.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "..", "..");
const WORK = process.env.COROPOOL_VALIDATE_DIR ?? join(tmpdir(), "coropool-validate-qemu");
const SAMPLE_MS = 50;
/** When QEMU's idle maps are counted after the guest says it is ready; init.sh then sleeps 2 s before its load. */
const IDLE_SAMPLE_MS = 1000;
const TOLERANCE = 2;
const RUN_TIMEOUT_MS = 150_000;
/** The stack recognition rule, the same as `coropool watch` (built: npm run validate:qemu builds first). */
const host = await import(join(ROOT, "dist", "src", "host", "maps-stacks.js"));
/** What `coropool watch` reads of a live process: checked against the harness's own read (same rule, its own read, its own moment). */
const { snapshot: watchSnapshot } = await import(join(ROOT, "dist", "src", "host", "snapshot.js"));
const APT_INSTALL = "apt-get install qemu-system-x86 linux-image-amd64 busybox-static";

/**
 * The configurations: devices and the guest's load. Phases run in turn
 * (","); jobs joined by "+" run together; "sleep:S" is a quiet pause.
 */
const CONFIGS = [
  {
    name: "virtio-2-iothreads",
    what: "2 virtio-blk (2 queues x 256) on 2 IOThreads, loaded one after the other at the same depth",
    devices: virtioDevices([2, 256], [2, 256]),
    virtioBlk: [[2, 256], [2, 256]],
    phases: "vda:256:2,sleep:1,vdb:256:2",
  },
  {
    name: "nvme-main-loop",
    what: "2 emulated NVMe (no pool increase: QEMU frees stacks), one after the other",
    devices: nvmeDevices(2),
    virtioBlk: [],
    phases: "nvme0n1:256:2,sleep:1,nvme1n1:256:2",
  },
  {
    name: "burst-then-other",
    what: "2 virtio-blk (2 x 512) on 2 IOThreads: a burst on the first, quiet, load on the second",
    devices: virtioDevices([2, 512], [2, 512]),
    virtioBlk: [[2, 512], [2, 512]],
    phases: "vda:512:2,sleep:2,vdb:64:2",
  },
];

function virtioDevices(...disks) {
  return (images) =>
    disks.flatMap(([queues, size], i) => [
      "-object", `iothread,id=io${i}`,
      "-drive", `file=${images[i]},if=none,id=d${i},format=raw`,
      "-device", `virtio-blk-pci,drive=d${i},iothread=io${i},num-queues=${queues},queue-size=${size}`,
    ]);
}

function nvmeDevices(n) {
  return (images) =>
    Array.from({ length: n }, (_, i) => [
      "-drive", `file=${images[i]},if=none,id=n${i},format=raw`,
      "-device", `nvme,serial=coropool${i},drive=n${i},max_ioqpairs=2`,
    ]).flat();
}

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
  const guest = buildGuest();
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
  const images = [0, 1].map((i) => diskImage(i));
  const rows = [];
  for (const config of CONFIGS) {
    for (const qemu of qemus) {
      process.stderr.write(`validate:qemu: ${config.name} on ${qemu.label}...\n`);
      const run = await runQemu(qemu, config, guest, images);
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
        plan: await checkPlan(run.idleBaseline?.plan, { policy: qemu.policy, sampledPeak: run.peakStacks, poolIncrease }),
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
  const missing = [];
  if (!existsSync("/usr/bin/qemu-system-x86_64")) missing.push("qemu-system-x86");
  if (kernelVersion() === null) missing.push("linux-image-amd64");
  if (!isStaticBusybox()) missing.push("busybox-static");
  for (const tool of ["gcc", "apt-get", "dpkg", "modprobe"]) if (!onPath(tool)) missing.push(tool);
  return missing;
}

function onPath(tool) {
  return (process.env.PATH ?? "").split(":").some((dir) => existsSync(join(dir, tool)));
}

function isStaticBusybox() {
  try {
    return execFileSync("file", ["-L", "/bin/busybox"], { encoding: "utf8" }).includes("statically linked");
  } catch {
    return false;
  }
}

/** The newest kernel with both an image in /boot and its modules. */
function kernelVersion() {
  if (!existsSync("/lib/modules")) return null;
  const versions = readdirSync("/lib/modules").filter((v) => existsSync(`/boot/vmlinuz-${v}`));
  return versions.sort().at(-1) ?? null;
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
    rmSync(join(apt, "parts"), { recursive: true, force: true });
    for (const d of ["lists/partial", "cache/archives/partial", "parts", "debs"]) mkdirSync(join(apt, d), { recursive: true });
    // The system's own mirror and key for bookworm, with the backports suite: a source of our own, beside the system's.
    const source = suiteSource(releaseMirror("/etc/apt", "bookworm"), "bookworm-backports");
    writeFileSync(join(apt, "sources.list"), "");
    writeFileSync(join(apt, "parts", source.name), source.text);
    const options = [
      "-o", `Dir::Etc::SourceList=${join(apt, "sources.list")}`,
      "-o", `Dir::Etc::SourceParts=${join(apt, "parts")}`,
      "-o", `Dir::State::Lists=${join(apt, "lists")}`,
      "-o", `Dir::Cache=${join(apt, "cache")}`,
      "-o", "APT::Sandbox::User=root",
      "-q",
    ];
    execFileSync("apt-get", [...options, "update"], { stdio: ["ignore", "ignore", "inherit"] });
    const packages = ["qemu-system-x86", "qemu-system-common", "qemu-system-data"].map((p) => `${p}/bookworm-backports`);
    execFileSync("apt-get", [...options, "download", ...packages], { cwd: join(apt, "debs"), stdio: ["ignore", "ignore", "inherit"] });
    for (const deb of readdirSync(join(apt, "debs")).filter((f) => f.endsWith(".deb"))) execFileSync("dpkg", ["-x", join(apt, "debs", deb), root]);
  }
  return { binary, extraArgs: ["-L", join(root, "usr", "share", "qemu"), "-L", "/usr/share/seabios"] };
}

/** The guest: the host's kernel, and an initramfs with busybox, the drivers, the load program and /init. */
function buildGuest() {
  const version = kernelVersion();
  const dir = join(WORK, "initramfs");
  rmSync(dir, { recursive: true, force: true });
  for (const d of ["bin", "modules", "proc", "sys", "dev"]) mkdirSync(join(dir, d), { recursive: true });
  copyFileSync("/bin/busybox", join(dir, "bin", "busybox"));
  copyFileSync(join(HERE, "init.sh"), join(dir, "init"));
  chmodSync(join(dir, "init"), 0o755);
  execFileSync("gcc", ["-static", "-O2", "-o", join(dir, "aio-randread"), join(HERE, "aio-randread.c")]);
  const order = [];
  for (const module of ["virtio_pci", "virtio_blk", "nvme"]) {
    const deps = execFileSync("modprobe", ["-S", version, "--show-depends", module], { encoding: "utf8" });
    for (const m of deps.matchAll(/^insmod (\S+)/gm)) {
      const name = m[1].split("/").at(-1);
      if (order.includes(name)) continue;
      order.push(name);
      copyFileSync(m[1], join(dir, "modules", name));
    }
  }
  writeFileSync(join(dir, "modules.order"), order.join("\n") + "\n");
  const initrd = join(WORK, "initramfs.cpio.gz");
  execFileSync("sh", ["-c", `cd '${dir}' && find . | /bin/busybox cpio -o -H newc 2>/dev/null | gzip -1 > '${initrd}'`]);
  return { kernel: `/boot/vmlinuz-${version}`, initrd };
}

function diskImage(i) {
  const path = join(WORK, `disk${i}.img`);
  writeFileSync(path, "");
  execFileSync("truncate", ["-s", "256M", path]);
  return path;
}

/** Boots one configuration, samples QEMU's stacks until the load is done, and lets the guest reset. */
async function runQemu(qemu, config, guest, images) {
  const log = join(WORK, `${config.name}.${qemu.policy}.trace.log`);
  rmSync(log, { force: true });
  const args = [
    ...qemu.extraArgs,
    "-accel", "tcg", "-machine", "pc", "-cpu", "max", "-smp", "2", "-m", "512",
    "-nodefaults", "-no-user-config", "-display", "none", "-serial", "stdio", "-no-reboot",
    "-kernel", guest.kernel, "-initrd", guest.initrd,
    "-append", `console=ttyS0 quiet panic=-1 cp.phases=${config.phases}`,
    "-trace", "qemu_aio_coroutine_enter", "-trace", "qemu_coroutine_terminate", "-D", log, "-msg", "timestamp=on",
    ...config.devices(images),
  ];
  const child = spawn(qemu.binary, args, { stdio: ["ignore", "pipe", "pipe"] });
  let console_ = "";
  let peakStacks = 0;
  let end = null;
  let idle = null;
  const sampler = setInterval(() => {
    const n = countStacks(child.pid);
    if (n !== null) peakStacks = Math.max(peakStacks, n);
  }, SAMPLE_MS);
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  child.stderr.on("data", (d) => (console_ += d));
  child.stdout.on("data", (d) => {
    console_ += d;
    if (idle === null && console_.includes("coropool-guest-ready")) {
      idle = "pending";
      // The guest sleeps 2 s after saying so (init.sh): QEMU's maps before any load.
      setTimeout(() => (idle = idleMaps(child.pid, log)), IDLE_SAMPLE_MS);
    }
    if (end === null && console_.includes("coropool-load-done")) {
      end = "pending";
      // The load has drained; one quiet sample later is QEMU's count at the end.
      setTimeout(() => {
        const n = countStacks(child.pid);
        try {
          writeFileSync(`${log}.maps`, readFileSync(`/proc/${child.pid}/maps`));
        } catch {
          // QEMU already gone: reported below
        }
        end = { stacks: n ?? -1, micros: Date.now() * 1000, watch: watchSnapshot(child.pid) };
        if (n !== null) peakStacks = Math.max(peakStacks, n);
      }, 500);
    }
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), RUN_TIMEOUT_MS);
  const status = await exited;
  clearTimeout(timer);
  clearInterval(sampler);
  if (end === null || end === "pending" || end.stacks < 0) {
    throw new Error(`${config.name} on ${qemu.label}: the guest never finished its load (QEMU exit ${status.code ?? status.signal}); its console:\n${console_.slice(-2000)}`);
  }
  const idleBaseline = idle === null || idle === "pending" ? null : idle;
  return { log, endStacks: end.stacks, endMicros: end.micros, peakStacks, idleBaseline, endWatch: end.watch };
}

/**
 * QEMU's coroutine stacks in its maps, by the one rule `coropool watch` uses
 * (dist/src/host/maps-stacks.js): a one-page ---p guard right below an
 * anonymous rw-p map of at least 1 MiB and smaller than a thread's stack
 * (RLIMIT_STACK from /proc/PID/limits). Larger than 1 MiB where mmap put the
 * stack right below anonymous rw-p memory and the kernel merged them (seen
 * here: 1044K, 1060K, 1156K, 1420K, 5124K).
 */
function countStacks(pid) {
  try {
    return host.scanMapsFile(`/proc/${pid}/maps`, host.stackRuleFor(pid)).stacks;
  } catch {
    return null;
  }
}

/**
 * What QEMU maps besides its coroutine stacks, at idle: every VMA of its maps
 * less 2 per coroutine stack (the stack and its guard), as coropool's replay
 * counts them (baseline + 2 x stacks). A stack the kernel merged into the
 * mapping above it costs 1 VMA, not 2, so this is a lower bound by the
 * number of merged stacks (a few at most, at idle none were seen).
 */
function idleMaps(pid, log) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/maps`, "utf8");
  } catch {
    return null;
  }
  writeFileSync(`${log}.idle.maps`, text);
  const { vmas, stacks } = host.scanMapsText(text, host.stackRuleFor(pid));
  return { vmas, stacks, baseline: vmas - 2 * stacks, watch: watchSnapshot(pid), plan: startPlanCheck(pid) };
}

/** The log's lines up to (and at) the time of the last sample: what QEMU had done when it was counted. */
async function* linesUpTo(path, micros) {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of lines) {
    const m = /^\d+@(\d+)\.(\d+):/.exec(line);
    if (m && Number(m[1]) * 1e6 + Number(m[2]) > micros) break;
    yield line;
  }
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
