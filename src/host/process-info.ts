/**
 * What a live process is, read from /proc without running or tracing it:
 * whether it is a QEMU system emulator, its version and so its pool policy,
 * its VM's name, and its identity across pid reuse.
 */
import { closeSync, fstatSync, openSync, readlinkSync, readSync } from "node:fs";
import type { PolicyName } from "../pools/index.js";
import { isQemuSystemEmulator } from "../vmconfig/qemu-binary.js";
import { leadingQemuVersion, poolLabel, poolOfVersion } from "../vmconfig/qemu-version.js";
import { readProcText } from "./proc-text.js";

const DELETED = " (deleted)";

/** The binary's path as the exe link shows it ("… (deleted)" where the file was replaced or removed since). */
export function readExePath(pid: number): string {
  return readlinkSync(`/proc/${pid}/exe`);
}

/**
 * A QEMU system emulator, by the basename of the binary it runs: not by its
 * command line, which `-name process=` changes.
 */
export function isQemuExe(exePath: string): boolean {
  return isQemuSystemEmulator(exePath.endsWith(DELETED) ? exePath.slice(0, -DELETED.length) : exePath);
}

/** QEMU prints its version from one string literal: `"QEMU emulator version " QEMU_FULL_VERSION`. */
const VERSION_MARKER = Buffer.from("QEMU emulator version ");
const VERSION_NUMBER = /^(\d+)\.(\d+)(?:\.(\d+))?/;
/** Enough bytes after the marker for any version number. */
const VERSION_TAIL = 32;
const EXE_CHUNK_BYTES = 1 << 20;

/** Versions already read, by the binary's identity: a binary is read once, however many processes run it. */
const versions = new Map<string, string | null>();

/**
 * The QEMU version in the bytes of the binary `pid` runs: /proc/PID/exe
 * opens that binary even when an upgrade has since replaced or deleted the
 * file. Streamed in chunks, never run. null where the binary holds no version.
 */
export function readQemuVersion(pid: number): string | null {
  return readBinaryVersion(`/proc/${pid}/exe`);
}

/** The QEMU version in the bytes of a binary (a path, or /proc/PID/exe); null where it holds none. */
export function readBinaryVersion(path: string): string | null {
  const fd = openSync(path, "r");
  try {
    const st = fstatSync(fd);
    const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
    const known = versions.get(key);
    if (known !== undefined) return known;
    const version = findVersion(fd);
    versions.set(key, version);
    return version;
  } finally {
    closeSync(fd);
  }
}

/** The version after the first marker followed by one, read chunk by chunk; a marker cut by a chunk's end is read again whole. */
function findVersion(fd: number): string | null {
  const keep = VERSION_MARKER.length + VERSION_TAIL;
  const buf = Buffer.allocUnsafe(EXE_CHUNK_BYTES + keep);
  let kept = 0;
  for (;;) {
    const n = readSync(fd, buf, kept, EXE_CHUNK_BYTES, null);
    const end = kept + n;
    const bytes = buf.subarray(0, end);
    let at = bytes.indexOf(VERSION_MARKER);
    for (; at !== -1 && (end - at >= keep || n === 0); at = bytes.indexOf(VERSION_MARKER, at + 1)) {
      const m = VERSION_NUMBER.exec(buf.toString("latin1", at + VERSION_MARKER.length, Math.min(end, at + keep)));
      if (m) return m[0];
    }
    if (n === 0) return null;
    const from = at !== -1 ? at : Math.max(0, end - keep);
    buf.copyWithin(0, from, end);
    kept = end - from;
  }
}

/** The pool policy watch shows for a version (vmconfig/qemu-version.ts): "legacy", "batched (uncapped)", or null. */
export function policyForVersion(version: string | null): string | null {
  const pool = poolOfVersion(leadingQemuVersion(version));
  return pool === null ? null : poolLabel(pool);
}

/** A pool policy given for a pid (a vendor build that backports a pool) wins over the version's. */
export type PolicyOverrides = ReadonlyMap<number, PolicyName>;

/** The process's command line: its NUL-separated arguments. */
export function readCmdline(pid: number): string[] {
  const text = readProcText(`/proc/${pid}/cmdline`, "utf8");
  const args = text.split("\0");
  if (args.at(-1) === "") args.pop();
  return args;
}

/**
 * The VM's name from QEMU's `-name`: `guest=X,…`, `X,process=Y,…` or `X`
 * (QEMU's option syntax: the first item without a key is the guest's name,
 * ",," is a comma in a value). null where there is none.
 */
export function vmNameOf(args: readonly string[]): string | null {
  let name: string | null = null;
  for (let i = 0; i + 1 < args.length; i++) {
    if (args[i] === "-name" || args[i] === "--name") name = guestOf(args[i + 1]!) ?? name;
  }
  return name;
}

function guestOf(value: string): string | null {
  const items = value.split(/(?<!,),(?!,)/).map((item) => item.replaceAll(",,", ","));
  for (const [index, item] of items.entries()) {
    const eq = item.indexOf("=");
    if (eq === -1 && index === 0) return item;
    if (item.slice(0, eq) === "guest") return item.slice(eq + 1);
  }
  return null;
}

/**
 * The process's start time (clock ticks after boot, /proc/PID/stat's 22nd
 * field) and state: a pid is the same process only with the same start.
 */
export function readStat(pid: number): { startTime: number; state: string; exiting: boolean } {
  const text = readProcText(`/proc/${pid}/stat`, "latin1");
  // The name (field 2) is in parentheses and may hold anything: count from the last ')'.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // Field 9, the kernel's task flags: PF_EXITING is set as do_exit() begins, before the memory
  // map is torn down and long before the state turns zombie, so a read it overlaps is known cut.
  const exiting = (Number(fields[6]) & PF_EXITING) !== 0;
  return { state: fields[0]!, startTime: Number(fields[19]), exiting };
}

/** include/linux/sched.h: "getting shut down". */
const PF_EXITING = 0x00000004;

/** /proc/PID/comm: the process's name, readable for every process (the binary's name cut to 15 bytes, unless it renamed itself). */
export function readComm(pid: number): string {
  return readProcText(`/proc/${pid}/comm`, "utf8").trim();
}
