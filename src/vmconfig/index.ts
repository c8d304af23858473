/**
 * The vmconfig floor: a VM's configuration (a QEMU command line or a libvirt
 * domain XML) in, the typed model of what decides its coroutine demand out.
 */
import { buildModel, type ModelOptions } from "./build-model.js";
import { specFromLibvirtXml } from "./libvirt-xml.js";
import type { VmModel } from "./model.js";
import { parseQemuArgv, parseQemuCommandText } from "./qemu-args.js";
import { specFromCommandLine } from "./vm-spec.js";

export type * from "./model.js";
export type { ModelOptions } from "./build-model.js";

/** The model of a command line: an argv array, or text (NUL-separated as in /proc/PID/cmdline, or one shell-quoted line). */
export function modelFromCommandLine(input: readonly string[] | string, options?: ModelOptions): VmModel {
  const cmd = typeof input === "string" ? parseQemuCommandText(input) : parseQemuArgv(input);
  return buildModel(specFromCommandLine(cmd), options);
}

/** The model of a libvirt domain XML. */
export function modelFromLibvirtXml(text: string, options?: ModelOptions): VmModel {
  return buildModel(specFromLibvirtXml(text), options);
}
