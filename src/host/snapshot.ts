/**
 * One live process now: its VMAs against vm.max_map_count, its coroutine
 * stacks, its QEMU version and pool policy, its VM's name. A process that
 * exits or cannot be read gives a snapshot that says so; nothing here throws
 * for it.
 */
import { readdirSync } from "node:fs";
import { readMaxMapCount } from "../vma/limits.js";
import { QEMU_STACK_SIZE, scanMapsFile, stackRuleFor } from "./maps-stacks.js";
import { isQemuExe, policyForVersion, readCmdline, readComm, readExePath, readQemuVersion, readStat, vmNameOf, type PolicyOverrides } from "./process-info.js";

export interface Headroom {
  /** VMAs left before max_map_count. */
  vmas: number;
  /** The share of max_map_count left, 0 to 1. */
  ratio: number;
}

export interface ProcessSnapshot {
  pid: number;
  /** Clock ticks after boot when it started: with the pid, the process's identity (pids are reused). */
  startTime: number | null;
  /** The VM's name (`-name`), null where none was given. */
  vm: string | null;
  /** The binary it runs, as /proc/PID/exe shows it ("… (deleted)" when replaced since). */
  exe: string | null;
  /** A QEMU system emulator by its binary's name (a pid given explicitly is watched whatever it runs). */
  qemu: boolean;
  /** The version in the binary's bytes ("7.2.22"), null where there is none. */
  qemuVersion: string | null;
  /** "legacy", "batched (uncapped)", a policy given for this pid, or null (no version). */
  policy: string | null;
  /** Where the policy came from. */
  policySource: "version" | "given" | null;
  /** VMAs mapped now (maps lines less [vsyscall]). */
  vmas: number | null;
  maxMapCount: number;
  headroom: Headroom | null;
  /** Coroutine stacks mapped now, in use and pooled (the maps cannot tell them apart). */
  stacks: number | null;
  /** Why the process could not be read: it exited, or permission was denied. Absent when it was read. */
  unreadable?: string;
}

export interface SnapshotOptions {
  /** The build's coroutine stack size (default 1 MiB, as QEMU). */
  stackSize?: number;
  /** Policies given by pid; they win over the version's. */
  policyOverrides?: PolicyOverrides;
  /** The host's vm.max_map_count, when the caller read it already (a watch reads it once a sample). */
  maxMapCount?: number;
}

/** The reason a read of /proc/PID/… failed, for the snapshot; errors that are not about the process are thrown on. */
function unreadableReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === "ENOENT" || code === "ESRCH") return "exited";
  if (code === "EACCES" || code === "EPERM") return "permission denied (reading another user's process needs root or CAP_SYS_PTRACE)";
  if (typeof code === "string") return `cannot be read (${code})`;
  throw error;
}

/** A process's snapshot now. `pid` must be a positive integer (the API checks it). */
export function snapshot(pid: number, options: SnapshotOptions = {}): ProcessSnapshot {
  const maxMapCount = options.maxMapCount ?? readMaxMapCount().value;
  const result: ProcessSnapshot = {
    pid,
    startTime: null,
    vm: null,
    exe: null,
    qemu: false,
    qemuVersion: null,
    policy: null,
    policySource: null,
    vmas: null,
    maxMapCount,
    headroom: null,
    stacks: null,
  };
  try {
    const stat = readStat(pid);
    result.startTime = stat.startTime;
    // A zombie has no memory left to read: it has exited, only its parent has not collected it.
    if (stat.state === "Z" || stat.state === "X" || stat.exiting) return { ...result, unreadable: "exited" };
    result.vm = vmNameOf(readCmdline(pid));
    result.exe = readExePath(pid);
    result.qemu = isQemuExe(result.exe);
    result.qemuVersion = readQemuVersion(pid);
    const given = options.policyOverrides?.get(pid);
    result.policy = given ?? policyForVersion(result.qemuVersion);
    result.policySource = given !== undefined ? "given" : result.policy === null ? null : "version";
    const count = scanMapsFile(`/proc/${pid}/maps`, stackRuleFor(pid, options.stackSize ?? QEMU_STACK_SIZE));
    // A process that exits while its maps are read leaves a file cut short (or empty): only
    // maps read from a process still alive afterwards, and the same one, are its count.
    if (count.vmas === 0 || !stillRunning(pid, stat.startTime)) return { ...result, unreadable: "exited" };
    result.vmas = count.vmas;
    result.stacks = count.stacks;
    result.headroom = { vmas: maxMapCount - count.vmas, ratio: (maxMapCount - count.vmas) / maxMapCount };
    return result;
  } catch (error) {
    const reason = unreadableReason(error);
    // Gone before its stat was read: there was no such process, as far as this snapshot can tell.
    return { ...result, unreadable: reason === "exited" && result.startTime === null ? "no such process" : reason };
  }
}

/** The same process, not exited: its stat still there, not a zombie, the same start time. Throws ENOENT when gone. */
function stillRunning(pid: number, startTime: number): boolean {
  const now = readStat(pid);
  return now.startTime === startTime && now.state !== "Z" && now.state !== "X" && !now.exiting;
}

/**
 * The QEMU system emulators running now, by pid, in pid order: the basename
 * of /proc/PID/exe decides. A process whose exe link cannot be read (another
 * user's, without root) is listed when its name (/proc/PID/comm, the binary's
 * name cut to 15 bytes unless the process renamed itself) is QEMU's, so that
 * it is reported unreadable rather than missed.
 */
export function listQemuProcesses(): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (isQemuProcess(pid)) pids.push(pid);
  }
  return pids.sort((a, b) => a - b);
}

function isQemuProcess(pid: number): boolean {
  try {
    return isQemuExe(readExePath(pid));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EACCES" && code !== "EPERM") return false; // gone, or a kernel thread (no exe)
    try {
      const comm = readComm(pid);
      return comm !== "" && isQemuExe(comm);
    } catch {
      return false;
    }
  }
}
