/**
 * QEMU 10.0.2 built here, unpatched and with coropool's series
 * (qemu/patches/), with the same flags: for `npm run validate:qemu:elastic`.
 *
 * The source is Debian's bookworm-backports orig tarball
 * (qemu_10.0.2+ds.orig.tar.xz), fetched by apt-get with a sources list,
 * lists and cache of its own under the work folder (the system's apt state is
 * not touched), on the system's own mirror (apt-sources.mjs). `apt-get
 * source` fails for want of the .dsc and .debian.tar.xz, which the mirror
 * does not serve, but the orig tarball arrives: its SHA-256 is checked
 * against the one the Sources index gives (`--print-uris`).
 *
 * The +ds tarball lacks QEMU's bundled meson, so meson (>= 1.5) and
 * python3-pycotap come from bookworm-backports too, unpacked into the work
 * folder and found through PATH and PYTHONPATH; and it lacks the edk2
 * firmware blobs, so their unpacking is switched off in the unpacked
 * meson.build (both builds alike: it is not part of the series).
 *
 * Cached: the unpatched build under build/unpatched, the patched one under
 * build/patched, each with its configure flags in a stamp; the patched
 * source tree records the series' hash and the files it touched. A rerun
 * with the same series runs ninja, which has nothing to do; a changed series
 * puts the touched files back from the pristine tree, applies the new one,
 * and ninja rebuilds what changed.
 */
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ownAptState } from "./apt-sources.mjs";

export const QEMU_VERSION = "10.0.2";
const ORIG = `qemu_${QEMU_VERSION}+ds.orig.tar.xz`;
const SUITE = "bookworm-backports";
/** The flags: TCG only, no optional features, nothing installed. */
export const CONFIGURE_FLAGS = [
  "--target-list=x86_64-softmmu",
  "--without-default-features",
  "--disable-docs",
  "--disable-werror",
  "--enable-tcg",
  "--disable-install-blobs",
];
export const TARGETS = ["qemu-system-x86_64", "tests/unit/test-coroutine"];
/** The meson.build line that would unpack the edk2 blobs the +ds tarball does not carry. */
const EDK2_LINE = "    unpack_edk2_blobs = bzip2.found()";
const EDK2_OFF = "    unpack_edk2_blobs = false";
/** What the builds need from the system, as one apt-get line. */
export const BUILD_PACKAGES = "apt-get install gcc ninja-build pkg-config flex bison libglib2.0-dev libpixman-1-dev libfdt-dev python3-venv xz-utils git";

/** A reason the machine cannot build QEMU: the caller prints it and exits 2. */
export class CannotBuild extends Error {}

/** The series: its patch files in order, and a hash of their bytes (the cache's key). */
export function readSeries(dir) {
  const names = readdirSync(dir).filter((n) => /^\d{4}-.*\.patch$/.test(n)).sort();
  if (names.length === 0) throw new CannotBuild(`no patch files (NNNN-*.patch) in ${dir}`);
  const hash = createHash("sha256");
  for (const name of names) hash.update(readFileSync(join(dir, name)));
  return { files: names.map((n) => join(dir, n)), hash: hash.digest("hex").slice(0, 16) };
}

/** Tools the build needs that are missing here. */
export function missingBuildTools() {
  const missing = [];
  for (const tool of ["gcc", "ninja", "pkg-config", "flex", "bison", "python3", "apt-get", "dpkg", "tar", "xz", "git"]) if (!onPath(tool)) missing.push(tool);
  for (const lib of ["glib-2.0", "pixman-1"]) if (!pkgConfig(lib)) missing.push(`${lib} (pkg-config)`);
  if (!existsSync("/usr/include/libfdt.h")) missing.push("libfdt.h");
  return missing;
}

/**
 * Both builds, made if missing: `{ unpatched, patched, series }`, each build
 * `{ dir, qemu, testCoroutine }`. `log` takes progress lines.
 */
export function buildBoth(work, patchesDir, log) {
  const series = readSeries(patchesDir);
  const pristine = join(work, "pristine", `qemu-${QEMU_VERSION}`);
  if (!existsSync(join(pristine, "configure"))) unpackSource(work, pristine, log);
  const env = mesonEnv(work, log);
  const unpatched = build(pristine, join(work, "build", "unpatched"), env, log);
  const patchedSrc = join(work, "src", "patched", `qemu-${QEMU_VERSION}`);
  applySeries(pristine, patchedSrc, series, log);
  const patched = build(patchedSrc, join(work, "build", "patched"), env, log);
  return { unpatched, patched, series };
}

/** apt-get's options for an apt state of its own under work/apt, with the backports suite (deb and deb-src); updated once. */
let aptReady = null;
function apt(work) {
  if (aptReady === null) {
    aptReady = ownAptState(join(work, "apt"), SUITE, ["deb", "deb-src"]);
    try {
      execFileSync("apt-get", [...aptReady, "update"], { stdio: ["ignore", "ignore", "pipe"] });
    } catch (err) {
      throw new CannotBuild(`apt-get update for ${SUITE} failed: ${firstLine(err)}`);
    }
  }
  return aptReady;
}

/** The orig tarball, fetched and checked against the Sources index, unpacked, its edk2 unpacking off. */
function unpackSource(work, pristine, log) {
  const options = apt(work);
  const dir = join(work, "apt", "src");
  mkdirSync(dir, { recursive: true });
  const uris = execFileSync("apt-get", [...options, "source", "--print-uris", `qemu/${SUITE}`], { encoding: "utf8" });
  const m = new RegExp(`^'[^']+' ${ORIG.replace(/[.+]/g, "\\$&")} \\d+ SHA256:([0-9a-f]{64})$`, "m").exec(uris);
  if (m === null) throw new CannotBuild(`the ${SUITE} Sources index lists no ${ORIG}`);
  const tarball = join(dir, ORIG);
  if (!existsSync(tarball) || sha256(tarball) !== m[1]) {
    log(`fetching ${ORIG} from ${SUITE}`);
    try {
      // Exits 100: the .dsc and .debian.tar.xz are not served. The orig tarball is all we need.
      execFileSync("apt-get", [...options, "source", "--download-only", `qemu/${SUITE}`], { cwd: dir, stdio: ["ignore", "ignore", "ignore"] });
    } catch {
      // checked below
    }
  }
  if (!existsSync(tarball)) throw new CannotBuild(`${ORIG} could not be downloaded from ${SUITE}`);
  const got = sha256(tarball);
  if (got !== m[1]) throw new Error(`${tarball}: SHA-256 ${got}, but the Sources index says ${m[1]}`);
  log(`unpacking ${ORIG} (SHA-256 ${got}, as the Sources index says)`);
  const parent = join(pristine, "..");
  rmSync(parent, { recursive: true, force: true });
  mkdirSync(parent, { recursive: true });
  execFileSync("tar", ["-xJf", tarball, "-C", parent]);
  const mesonBuild = join(pristine, "meson.build");
  const text = readFileSync(mesonBuild, "utf8");
  if (!text.includes(EDK2_LINE)) throw new Error(`${mesonBuild}: no line '${EDK2_LINE.trim()}' to switch the edk2 blobs off`);
  writeFileSync(mesonBuild, text.replace(EDK2_LINE, EDK2_OFF));
}

/** meson and pycotap from backports, unpacked (the system's packages untouched): the environment that finds them. */
function mesonEnv(work, log) {
  const tools = join(work, "tools");
  const meson = join(tools, "usr", "bin", "meson");
  if (!existsSync(meson)) {
    const debs = join(work, "apt", "debs");
    rmSync(debs, { recursive: true, force: true });
    mkdirSync(debs, { recursive: true });
    log(`fetching meson and python3-pycotap from ${SUITE}`);
    try {
      execFileSync("apt-get", [...apt(work), "download", `meson/${SUITE}`, `python3-pycotap/${SUITE}`], { cwd: debs, stdio: ["ignore", "ignore", "pipe"] });
    } catch (err) {
      throw new CannotBuild(`meson from ${SUITE} could not be downloaded: ${firstLine(err)}`);
    }
    for (const deb of readdirSync(debs)) execFileSync("dpkg", ["-x", join(debs, deb), tools]);
  }
  return {
    ...process.env,
    PATH: `${join(tools, "usr", "bin")}:${process.env.PATH ?? ""}`,
    PYTHONPATH: join(tools, "usr", "lib", "python3", "dist-packages"),
  };
}

/**
 * The pristine tree with the series applied by git apply (no fuzz: a patch
 * that does not fit fails). The tree is made once; a new series first puts
 * back, from the pristine tree, the files the old one touched.
 */
function applySeries(pristine, dest, series, log) {
  const stamp = join(dest, ".coropool-series");
  const old = existsSync(stamp) ? readFileSync(stamp, "utf8").split("\n").filter((l) => l !== "") : null;
  if (old !== null && old[0] === series.hash) return;
  log(`applying the series (${series.files.length} patches, hash ${series.hash})`);
  if (old === null) {
    rmSync(join(dest, ".."), { recursive: true, force: true });
    mkdirSync(join(dest, ".."), { recursive: true });
    cpSync(pristine, dest, { recursive: true });
  } else {
    rmSync(stamp);
    for (const file of old.slice(1)) {
      if (existsSync(join(pristine, file))) cpSync(join(pristine, file), join(dest, file));
      else rmSync(join(dest, file), { force: true });
    }
  }
  const touched = new Set();
  // Outside any repository, git apply patches the files as `patch` would (inside one, paths are the repository's).
  const noRepo = { ...process.env, GIT_CEILING_DIRECTORIES: join(dest, "..") };
  for (const file of series.files) {
    try {
      const numstat = execFileSync("git", ["apply", "--numstat", file], { cwd: dest, env: noRepo, encoding: "utf8" });
      for (const line of numstat.split("\n")) if (line.trim() !== "") touched.add(line.split("\t")[2]);
      execFileSync("git", ["apply", "--whitespace=nowarn", file], { cwd: dest, env: noRepo, stdio: ["ignore", "ignore", "pipe"] });
    } catch (err) {
      throw new Error(`${file} does not apply to QEMU ${QEMU_VERSION}: ${firstLine(err)}`);
    }
  }
  writeFileSync(stamp, [series.hash, ...touched].join("\n") + "\n");
}

/** configure (once per set of flags) and ninja for the two targets: `{ dir, qemu, testCoroutine }`. */
function build(src, dir, env, log) {
  const stamp = join(dir, ".coropool-configured");
  const flags = CONFIGURE_FLAGS.join(" ");
  if (!existsSync(stamp) || readFileSync(stamp, "utf8") !== flags) {
    log(`configuring ${dir}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    run(join(src, "configure"), CONFIGURE_FLAGS, dir, env, "configure");
    writeFileSync(stamp, flags);
  }
  log(`ninja ${TARGETS.join(" ")} in ${dir}`);
  run("nice", ["ninja", ...TARGETS], dir, env, "ninja");
  return { dir, qemu: join(dir, "qemu-system-x86_64"), testCoroutine: join(dir, "tests", "unit", "test-coroutine") };
}

/** A build step, its output kept in a log beside it; a failure names the log. */
function run(cmd, args, cwd, env, what) {
  const logFile = join(cwd, `${what}.log`);
  try {
    const out = execFileSync(cmd, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"], maxBuffer: 256 * 1024 * 1024 });
    writeFileSync(logFile, out);
  } catch (err) {
    writeFileSync(logFile, `${err.stdout ?? ""}${err.stderr ?? ""}`);
    throw new Error(`${what} failed in ${cwd}; see ${logFile}`);
  }
}

function sha256(file) {
  const hash = createHash("sha256");
  hash.update(readFileSync(file));
  return hash.digest("hex");
}

function onPath(tool) {
  return (process.env.PATH ?? "").split(":").some((dir) => dir !== "" && existsSync(join(dir, tool)));
}

function pkgConfig(lib) {
  try {
    execFileSync("pkg-config", ["--exists", lib]);
    return true;
  } catch {
    return false;
  }
}

function firstLine(err) {
  const text = `${err?.stderr ?? ""}`.trim() || (err instanceof Error ? err.message : String(err));
  return text.split("\n").filter((l) => l.trim() !== "").at(-1) ?? "";
}

