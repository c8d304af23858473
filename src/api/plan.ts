/**
 * plan(): a VM's configuration — a QEMU command line, a libvirt domain XML,
 * a file holding either, or a running QEMU's pid — in; its worst case under
 * every pool policy and the smallest safe max_map_count out. The result is
 * the document `coropool plan --json` prints; renderReport draws its page.
 */
import { apiDoor, type Door } from "../options/door.js";
import { PID } from "../options/catalogue.js";
import { resolvePlanOptions, type PlanRequest } from "../options/doors.js";
import { badArgument } from "../options/resolve.js";
import { REFUSED } from "../options/rule.js";
import { planOfInput } from "../plan/plan.js";
import { readPlanInput, type PlanConfig, type PlanInput } from "../plan/plan-input.js";
import type { PolicyName } from "../pools/index.js";
import type { PolicySpec } from "../replay/replay-log.js";
import { toDocument, type PlanDocument } from "../report/document.js";
import { planReport } from "../report/plan-document.js";

export type { PlanConfig } from "../plan/plan-input.js";

export interface PlanOptions {
  /** The policies to compare, names or `{ policy, uncapped }`; default every policy, batched uncapped and capped. */
  policies?: (PolicyName | PolicySpec)[];
  /** The limit asked about; default: this host's vm.max_map_count (65530 if unreadable). */
  maxMapCount?: number;
  /** VMAs besides the stacks; default: a running QEMU's own, else QEMU_BASELINE_VMAS. */
  baselineVmas?: number;
  /** "7.2", "10.0.2"; default: read from the running process or the emulator the input names. */
  qemuVersion?: string;
  /** A machine type to plan for, over the input's. */
  machine?: string;
  signal?: AbortSignal;
}

/** Buckets per series in the document: about what a chart draws. */
const DOCUMENT_SERIES_BUCKETS = 400;

export async function plan(config: PlanConfig, options: PlanOptions = {}): Promise<PlanDocument> {
  return (await planPrepared(preparePlan(apiDoor("plan"), config, options))).document;
}

/** A plan's options checked and its configuration read: what the plan runs on, read once. */
export interface PreparedPlan {
  readonly request: PlanRequest;
  readonly input: PlanInput;
}

export function preparePlan(door: Door, config: unknown, options: unknown): PreparedPlan {
  const request = resolvePlanOptions(door, options);
  const input = readPlanInput(checkConfig(door, config), { qemuVersion: request.qemuVersion, machine: request.machine, baselineVmas: request.baselineVmas });
  return { request, input };
}

/** The plan, and its schedule's trace made when called (what the CLI's -o writes). */
export async function planPrepared({ request, input }: PreparedPlan): Promise<{ document: PlanDocument; trace: () => string }> {
  const outcome = await planOfInput(input, { maxMapCount: request.maxMapCount, policies: request.policies, seriesBuckets: DOCUMENT_SERIES_BUCKETS, signal: request.signal });
  return { document: toDocument(planReport(input, outcome, request.maxMapCount)), trace: outcome.schedule.trace };
}

const CONFIG_ALLOWED = "a command line (text or argv), { commandLine }, { libvirtXml }, { file } or { pid }";

function checkConfig(door: Door, config: unknown): PlanConfig {
  if (typeof config === "string" && config.trim() !== "") return config;
  if (Array.isArray(config) && config.length > 0 && config.every((a) => typeof a === "string")) return config;
  if (config !== null && typeof config === "object" && !Array.isArray(config)) {
    const keys = Object.keys(config);
    const c = config as Record<string, unknown>;
    if (keys.length === 1) {
      if (keys[0] === "commandLine" && (typeof c.commandLine === "string" || Array.isArray(c.commandLine))) return checkConfig(door, c.commandLine);
      if (keys[0] === "libvirtXml" && typeof c.libvirtXml === "string") return { libvirtXml: c.libvirtXml };
      if (keys[0] === "file" && typeof c.file === "string" && c.file !== "") return { file: c.file };
      if (keys[0] === "pid") {
        const pid = PID.check(c.pid);
        if (pid !== REFUSED) return { pid };
      }
    }
  }
  throw badArgument(door, "config", config, CONFIG_ALLOWED);
}
