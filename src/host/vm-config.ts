/**
 * The configuration of a running QEMU, for `plan --pid`: its command line
 * from /proc/PID/cmdline made into the vmconfig model, with the QEMU version
 * read from the binary the process runs (/proc/PID/exe, process-info.ts), so
 * the model takes that version's defaults. Nothing is run or traced.
 */
import { InputError } from "../errors.js";
import { modelFromCommandLine, type ModelOptions, type VmModel } from "../vmconfig/index.js";
import { leadingQemuVersion } from "../vmconfig/qemu-version.js";
import { isQemuExe, readCmdline, readExePath, readQemuVersion } from "./process-info.js";

export interface RunningVmConfig {
  readonly pid: number;
  /** The binary the process runs, as /proc/PID/exe shows it. */
  readonly exe: string;
  /** The version in that binary ("7.2.22"), or null where it holds none. */
  readonly version: string | null;
  /** Its command line, argv[0] the binary it runs. */
  readonly argv: readonly string[];
  readonly model: VmModel;
}

const ALLOWED = "the pid of a running QEMU system emulator (qemu-system-*, qemu-kvm or kvm)";
const DELETED = " (deleted)";

/** The running QEMU's model and version; a pid that is not one is bad input, one line naming it. */
export function vmConfigOfPid(pid: number, options: Omit<ModelOptions, "qemuVersion"> = {}): RunningVmConfig {
  const exe = exeOf(pid);
  if (!isQemuExe(exe)) throw new InputError("ERR_NOT_QEMU_PID", `bad pid ${pid}: not a QEMU process (its program is ${exe}); allowed: ${ALLOWED}`);
  const args = procRead(pid, () => readCmdline(pid));
  const version = procRead(pid, () => readQemuVersion(pid));
  // argv[0] is whatever the starter chose (exec -a, a wrapper's name); the binary is what runs.
  const argv = [exe.endsWith(DELETED) ? exe.slice(0, -DELETED.length) : exe, ...args.slice(1)];
  return { pid, exe, version, argv, model: modelFromCommandLine(argv, { ...options, qemuVersion: leadingQemuVersion(version) }) };
}

function exeOf(pid: number): string {
  return procRead(pid, () => readExePath(pid));
}

/** A /proc read, its failure as the one line of bad input that says why the pid cannot be read. */
function procRead<T>(pid: number, read: () => T): T {
  try {
    return read();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ESRCH") throw new InputError("ERR_NO_PID", `bad pid ${pid}: no such process; allowed: ${ALLOWED}`);
    if (code === "EACCES" || code === "EPERM") throw new InputError("ERR_PID_ACCESS", `bad pid ${pid}: its /proc files are not readable by this user (${code}); allowed: ${ALLOWED} that this user may read (its owner or root)`);
    throw error;
  }
}
