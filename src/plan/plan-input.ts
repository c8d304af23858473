/**
 * What a plan is asked about, turned into a VM model and the facts the input
 * may not hold: the QEMU version (given, else read from the running process or
 * the emulator binary the input names, else unknown: the newest rules), the
 * machine type (given, else the input's, else QEMU's default), and the VMAs
 * the process maps besides its stacks (given, else those of the running
 * process, else QEMU_BASELINE_VMAS). Each says where it came from.
 */
import { accessSync, constants, readFileSync } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";
import { QEMU_STACK_SIZE, scanMapsFile, stackRuleFor } from "../host/maps-stacks.js";
import { readBinaryVersion } from "../host/process-info.js";
import { vmConfigOfPid } from "../host/vm-config.js";
import { QEMU_BASELINE_VMAS } from "../vma/limits.js";
import { modelFromCommandLine, modelFromLibvirtXml, type VmModel } from "../vmconfig/index.js";
import type { QemuVersion } from "../vmconfig/qemu-rules.js";
import { parseQemuVersion } from "../vmconfig/qemu-version.js";

/** A VM's configuration: a command line (text or argv), a libvirt domain XML's text, a file holding either, or a running QEMU. */
export type PlanConfig =
  | string
  | readonly string[]
  | { readonly commandLine: string | readonly string[] }
  | { readonly libvirtXml: string }
  | { readonly file: string }
  | { readonly pid: number };

export interface Given<T> {
  readonly value: T;
  /** Where it came from, in words: "--qemu-version", "/proc/1234/exe", "default: …". */
  readonly from: string;
}

export interface PlanInput {
  /** What was read: "command line", a file's path, "pid 1234". */
  readonly source: string;
  readonly format: "qemu-command-line" | "libvirt-xml";
  readonly model: VmModel;
  /** The version as read ("7.2.22"), with the major and minor the rules use; null: unknown. */
  readonly qemuVersion: Given<string | null>;
  readonly version: QemuVersion | null;
  readonly baselineVmas: Given<number>;
  /** The baseline was given: it is the whole of it (else the load's thread pool is added to an idle one). */
  readonly baselineGiven: boolean;
}

export interface PlanInputOptions {
  readonly qemuVersion?: string;
  readonly machine?: string;
  readonly baselineVmas?: number;
}

export function readPlanInput(config: PlanConfig, options: PlanInputOptions): PlanInput {
  if (typeof config === "string" || Array.isArray(config)) return fromCommandLine("command line", config as string | readonly string[], null, options);
  const c = config as Exclude<PlanConfig, string | readonly string[]>;
  if ("commandLine" in c) return fromCommandLine("command line", c.commandLine, null, options);
  if ("libvirtXml" in c) return fromXml("libvirt XML", c.libvirtXml, options);
  if ("file" in c) return fromFile(c.file, options);
  return fromPid(c.pid, options);
}

/** A file holding a domain XML (its first character `<`) or a command line (NUL-separated or one shell line). */
function fromFile(path: string, options: PlanInputOptions): PlanInput {
  const text = readFileSync(path, "utf8");
  return text.trimStart().startsWith("<") ? fromXml(path, text, options) : fromCommandLine(path, text, null, options);
}

function fromXml(source: string, text: string, options: PlanInputOptions): PlanInput {
  const version = versionOf(options, null);
  const model = modelFromLibvirtXml(text, { qemuVersion: version.parsed, machineType: options.machine });
  return finish(source, "libvirt-xml", model, version, options, null);
}

function fromCommandLine(source: string, input: string | readonly string[], pid: number | null, options: PlanInputOptions): PlanInput {
  // The version decides rules the model applies (the defaults of an unversioned machine type): read it first.
  const probe = modelFromCommandLine(input, { machineType: options.machine });
  const version = versionOf(options, probe.emulator);
  const model = modelFromCommandLine(input, { qemuVersion: version.parsed, machineType: options.machine });
  return finish(source, "qemu-command-line", model, version, options, pid);
}

/** A running QEMU (host/vm-config.ts): its command line, its version from /proc/PID/exe unless one is given. */
function fromPid(pid: number, options: PlanInputOptions): PlanInput {
  const running = vmConfigOfPid(pid, { machineType: options.machine });
  if (options.qemuVersion !== undefined) return fromCommandLine(`pid ${pid}`, running.argv, pid, options);
  const version: VersionFact = running.version === null
    ? { value: null, from: `unknown (${running.exe} holds no version): the newest QEMU's rules; give the version to be exact`, parsed: null }
    : { value: running.version, from: `/proc/${pid}/exe`, parsed: parseQemuVersion(running.version) };
  return finish(`pid ${pid}`, "qemu-command-line", running.model, version, options, pid);
}

interface VersionFact extends Given<string | null> {
  readonly parsed: QemuVersion | null;
}

function versionOf(options: PlanInputOptions, emulator: string | null): VersionFact {
  if (options.qemuVersion !== undefined) return { value: options.qemuVersion, from: "given", parsed: parseQemuVersion(options.qemuVersion) };
  const binary = emulator === null ? null : findProgram(emulator);
  const read = binary === null ? null : readBinaryVersion(binary);
  if (binary !== null && read !== null) return { value: read, from: binary, parsed: parseQemuVersion(read) };
  const why = emulator === null ? "the input names no emulator" : `${emulator} is not on this host`;
  return { value: null, from: `unknown (${why}): the newest QEMU's rules; give the version to be exact`, parsed: null };
}

/** The emulator as named: a path, or a name looked up in PATH; null when it is not an executable here. */
function findProgram(name: string): string | null {
  const candidates = isAbsolute(name) || name.includes("/") ? [name] : (process.env.PATH ?? "").split(delimiter).filter(Boolean).map((dir) => join(dir, name));
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not this one
    }
  }
  return null;
}

function finish(source: string, format: PlanInput["format"], model: VmModel, version: VersionFact, options: PlanInputOptions, pid: number | null): PlanInput {
  return {
    source,
    format,
    model,
    qemuVersion: { value: version.value, from: version.from },
    version: version.parsed,
    baselineVmas: baselineOf(options, pid),
    baselineGiven: options.baselineVmas !== undefined,
  };
}

/** The VMAs besides stacks: given; else a running QEMU's own (its VMAs less two per stack mapped now); else the idle QEMU's. */
function baselineOf(options: PlanInputOptions, pid: number | null): Given<number> {
  if (options.baselineVmas !== undefined) return { value: options.baselineVmas, from: "given" };
  if (pid !== null) {
    const count = scanMapsFile(`/proc/${pid}/maps`, stackRuleFor(pid, QEMU_STACK_SIZE));
    return { value: count.vmas - 2 * count.stacks, from: `/proc/${pid}/maps: ${count.vmas} VMAs less 2 × ${count.stacks} stacks mapped now` };
  }
  return { value: QEMU_BASELINE_VMAS, from: `default: QEMU_BASELINE_VMAS, what an idle QEMU 7.2 or 10.0 maps besides its stacks (measured by validate:qemu)` };
}
