/**
 * The guest harness `npm run validate:qemu` and `validate:qemu:elastic`
 * share: the guest (the host's Debian kernel, a busybox initramfs with the
 * block drivers and aio-randread), the configurations, one boot of a QEMU
 * under TCG with its coroutine trace and its stacks sampled in
 * /proc/PID/maps every 50 ms, and the log read up to a sample's time.
 *
 * The guest says when each phase of its load is done (init.sh); a boot
 * records QEMU's stacks at the idle points: 0.5 s after each phase of load,
 * at the end of each quiet pause, and at the end of the quiet period after
 * the load, before the guest resets.
 */
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, copyFileSync, createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "..", "..");
export const SAMPLE_MS = 50;
/** When QEMU's idle maps are counted after the guest says it is ready; init.sh then sleeps 2 s before its load. */
const IDLE_SAMPLE_MS = 1000;
/** After a phase of load, the in-flight requests drain before QEMU is idle. */
const AFTER_LOAD_MS = 500;
/** The guest sleeps 3 s after its load (init.sh): its end is sampled this long after the load is done. */
const QUIET_END_MS = 2500;
const RUN_TIMEOUT_MS = 150_000;
/** The stack recognition rule, the same as `coropool watch` (built: the npm scripts build first). */
const host = await import(join(ROOT, "dist", "src", "host", "maps-stacks.js"));
/** What `coropool watch` reads of a live process: checked against the harness's own read (same rule, its own read, its own moment). */
const { snapshot: watchSnapshot } = await import(join(ROOT, "dist", "src", "host", "snapshot.js"));
export const GUEST_APT_INSTALL = "apt-get install linux-image-amd64 busybox-static";

/**
 * The configurations: devices and the guest's load. Phases run in turn
 * (","); jobs joined by "+" run together; "sleep:S" is a quiet pause.
 */
export const CONFIGS = [
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

export function virtioDevices(...disks) {
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

/** What the guest needs that is missing here. */
export function missingGuestTools() {
  const missing = [];
  if (kernelVersion() === null) missing.push("linux-image-amd64");
  if (!isStaticBusybox()) missing.push("busybox-static");
  for (const tool of ["gcc", "modprobe", "truncate", "gzip"]) if (!onPath(tool)) missing.push(tool);
  return missing;
}

export function onPath(tool) {
  return (process.env.PATH ?? "").split(":").some((dir) => dir !== "" && existsSync(join(dir, tool)));
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

/** The guest: the host's kernel, and an initramfs with busybox, the drivers, the load program and /init. */
export function buildGuest(work) {
  const version = kernelVersion();
  const dir = join(work, "initramfs");
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
  const initrd = join(work, "initramfs.cpio.gz");
  execFileSync("sh", ["-c", `cd '${dir}' && find . | /bin/busybox cpio -o -H newc 2>/dev/null | gzip -1 > '${initrd}'`]);
  return { kernel: `/boot/vmlinuz-${version}`, initrd };
}

export function diskImage(work, i) {
  const path = join(work, `disk${i}.img`);
  writeFileSync(path, "");
  execFileSync("truncate", ["-s", "256M", path]);
  return path;
}

/**
 * Boots one configuration on `qemu` ({ label, policy, binary, extraArgs,
 * traceEvents }), samples its stacks every SAMPLE_MS until the guest resets,
 * and records them at the idle points (`idlePoints`: { what, stacks, micros }).
 * The log goes to `work`; `traceEvents` are traced beside the enters and
 * terminates. `onIdle(pid)`, when given, runs at idle; what it returns is
 * the idle baseline's `extra`.
 */
export async function runQemu(qemu, config, guest, images, work, { onIdle } = {}) {
  const log = join(work, `${config.name}.${qemu.policy}.trace.log`);
  rmSync(log, { force: true });
  const args = [
    ...qemu.extraArgs,
    "-accel", "tcg", "-machine", "pc", "-cpu", "max", "-smp", "2", "-m", "512",
    "-nodefaults", "-no-user-config", "-display", "none", "-serial", "stdio", "-no-reboot",
    "-kernel", guest.kernel, "-initrd", guest.initrd,
    "-append", `console=ttyS0 quiet panic=-1 cp.phases=${config.phases}`,
    "-trace", "qemu_aio_coroutine_enter", "-trace", "qemu_coroutine_terminate",
    ...(qemu.traceEvents ?? []).flatMap((e) => ["-trace", e]),
    "-D", log, "-msg", "timestamp=on",
    ...config.devices(images),
  ];
  const child = spawn(qemu.binary, args, { stdio: ["ignore", "pipe", "pipe"] });
  let console_ = "";
  let seen = 0;
  let peakStacks = 0;
  let end = null;
  let idle = null;
  const idlePoints = [];
  const sampler = setInterval(() => {
    const n = countStacks(child.pid);
    if (n !== null) peakStacks = Math.max(peakStacks, n);
  }, SAMPLE_MS);
  const idlePoint = (what) => {
    const n = countStacks(child.pid);
    if (n === null) return;
    idlePoints.push({ what, stacks: n, micros: Date.now() * 1000 });
    peakStacks = Math.max(peakStacks, n);
  };
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  child.stderr.on("data", (d) => (console_ += d));
  child.stdout.on("data", (d) => {
    console_ += d;
    if (idle === null && console_.includes("coropool-guest-ready")) {
      idle = "pending";
      // The guest sleeps 2 s after saying so (init.sh): QEMU's maps before any load.
      setTimeout(() => {
        idle = idleMaps(child.pid, log);
        // What a caller reads of the idle QEMU besides (validate:qemu's plan check).
        if (idle !== null && onIdle) idle.extra = onIdle(child.pid);
      }, IDLE_SAMPLE_MS);
    }
    // Each phase's end (init.sh): a load's, sampled once it drained; a quiet pause's, at once.
    for (const m of console_.slice(seen).matchAll(/coropool-phase-done (\d+) (load|quiet)\r?\n/g)) {
      if (m[2] === "load") setTimeout(() => idlePoint(`${AFTER_LOAD_MS / 1000} s after phase ${m[1]}`), AFTER_LOAD_MS);
      else idlePoint(`end of phase ${m[1]} (quiet)`);
    }
    seen = Math.max(seen, console_.lastIndexOf("\n") + 1);
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
      }, AFTER_LOAD_MS);
      // The guest sleeps on before it resets: the end of that quiet period.
      setTimeout(() => idlePoint("end of the quiet period after the load"), QUIET_END_MS);
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
  idlePoints.sort((a, b) => a.micros - b.micros);
  return { log, endStacks: end.stacks, endMicros: end.micros, peakStacks, idleBaseline, endWatch: end.watch, idlePoints };
}

/**
 * QEMU's coroutine stacks in its maps, by the one rule `coropool watch` uses
 * (dist/src/host/maps-stacks.js): a one-page ---p guard right below an
 * anonymous rw-p map of at least 1 MiB and smaller than a thread's stack
 * (RLIMIT_STACK from /proc/PID/limits). Larger than 1 MiB where mmap put the
 * stack right below anonymous rw-p memory and the kernel merged them (seen
 * here: 1044K, 1060K, 1156K, 1420K, 5124K).
 */
export function countStacks(pid) {
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
  return { vmas, stacks, baseline: vmas - 2 * stacks, micros: Date.now() * 1000, watch: watchSnapshot(pid) };
}

/** The log's lines up to (and at) the time of the last sample: what QEMU had done when it was counted. */
export async function* linesUpTo(path, micros) {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of lines) {
    const m = /^\d+@(\d+)\.(\d+):/.exec(line);
    if (m && Number(m[1]) * 1e6 + Number(m[2]) > micros) break;
    yield line;
  }
}
