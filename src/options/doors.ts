/**
 * Each entry point's options, resolved in one place for the CLI command and
 * the API function alike: which names it takes, what must be given, the
 * defaults, and the checks between options. What comes out is what the
 * layers below take, under the same names; they check nothing again.
 *
 *   run / stress / imbalance / randread   RUN_OPTIONS       → ThreadedExperimentOptions
 *   replay                                REPLAY_OPTIONS    → ReplayRequest
 *   whatIf / whatif                       WHATIF_OPTIONS    → WhatIfRequest
 *   startRuntime                          START_OPTIONS     → StartRequest
 *   runtime.run                           WORKLOAD_OPTIONS  → WorkloadRequest
 *   watch                                 WATCH_OPTIONS     → WatchRequest
 *   snapshot                              SNAPSHOT_OPTIONS  → SnapshotRequest
 *   plan                                  PLAN_OPTIONS      → PlanRequest
 */
import type { ProgressCallback, ThreadedExperimentOptions } from "../experiments/options.js";
import { POLICY_NAMES, type PolicyName } from "../pools/index.js";
import { poolIncreaseFor } from "../replay/pool-increase.js";
import type { PolicySpec } from "../replay/replay-log.js";
import { QEMU_BASELINE_VMAS, readMaxMapCount } from "../vma/limits.js";
import { QEMU_STACK_SIZE } from "../host/maps-stacks.js";
import { DEFAULT_TREND_WINDOW_MS } from "../host/watcher.js";

import { OPTIONS, type OptionName } from "./catalogue.js";
import { InputError } from "../errors.js";
import { badOption, optionLabel, type Door } from "./door.js";
import { missingOption, refuseBoth, resolveOptions, type Resolved } from "./resolve.js";
import { BOOLEAN, REFUSED } from "./rule.js";

/** What every runtime command and run() take. */
export const RUN_OPTIONS = [
  "policies",
  "threads",
  "maxMapCount",
  "baselineVmas",
  "uncapped",
  "seed",
  "backend",
  "stackSize",
  "check",
  "timeoutMs",
  "stackSlots",
  "signal",
  "onProgress",
  "onSample",
] as const satisfies readonly OptionName[];

/** The options of a scenario run; the scenario's own fit (threads for its kind, the kernel's limit) is ./scenario-fit.ts. */
export function resolveRunOptions(door: Door, given: unknown): ThreadedExperimentOptions {
  return resolveOptions(door, RUN_OPTIONS, given);
}

/** What a replay and a what-if both take about the log. */
const LOG_OPTIONS = ["maxMapCount", "baselineVmas", "uncapped", "poolIncrease", "virtioBlk"] as const satisfies readonly OptionName[];

export const REPLAY_OPTIONS = ["policies", ...LOG_OPTIONS, "check"] as const satisfies readonly OptionName[];

/** A log's replay, resolved: every value filled in. */
export interface LogRequest {
  maxMapCount: number;
  baselineVmas: number;
  poolIncrease: number;
}

export interface ReplayRequest extends LogRequest {
  policies: PolicySpec[];
  check: boolean;
}

export function resolveReplayOptions(door: Door, given: unknown): ReplayRequest {
  const options = resolveOptions(door, REPLAY_OPTIONS, given);
  if (options.policies === undefined) missingOption(door, "policies", `${POLICY_NAMES.join(", ")} or a list of them`);
  const uncapped = options.uncapped === true;
  return { ...logRequest(door, options), policies: options.policies.map((policy) => ({ policy, uncapped })), check: options.check === true };
}

export const IMPORT_OPTIONS = ["poolIncrease", "virtioBlk"] as const satisfies readonly OptionName[];

/** An import writes the log's pool increase into the trace; nothing else about the replay is its business. */
export function resolveImportOptions(door: Door, given: unknown): { poolIncrease: number } {
  return { poolIncrease: poolIncreaseOf(door, resolveOptions(door, IMPORT_OPTIONS, given)) };
}

export const WHATIF_OPTIONS = ["policies", ...LOG_OPTIONS, "signal", "onProgress"] as const satisfies readonly OptionName[];

export interface WhatIfRequest extends LogRequest {
  /** undefined: the what-if's own list (every policy, batched both uncapped and capped). */
  policies: PolicySpec[] | undefined;
  signal: AbortSignal | undefined;
  onProgress: ProgressCallback | undefined;
}

/**
 * A what-if's policies may each say whether they run uncapped: names, or
 * `{ policy, uncapped }`; `uncapped` applies to the names. Without policies,
 * `uncapped` has nothing to apply to (the default list runs batched both ways).
 */
export function resolveWhatIfOptions(door: Door, given: unknown): WhatIfRequest {
  const { policies: rawPolicies, ...rest } = (isRecord(given) ? given : {}) as Record<string, unknown>;
  const options = resolveOptions(door, WHATIF_OPTIONS, isRecord(given) ? { ...rest, policies: undefined } : given);
  const uncapped = options.uncapped === true;
  const policies = rawPolicies === undefined ? undefined : checkPolicySpecs(door, rawPolicies, uncapped);
  if (policies === undefined && options.uncapped !== undefined) {
    throw new InputError("ERR_BAD_OPTION", `${optionLabel(door, "uncapped")} needs ${optionLabel(door, "policies")}: the default list runs batched both uncapped and capped`);
  }
  return { ...logRequest(door, options), policies, signal: options.signal, onProgress: options.onProgress };
}

/** The values every log replay fills in: the host's limit, the documented baseline, the pool increase. */
function logRequest(door: Door, options: Resolved<(typeof LOG_OPTIONS)[number]>): LogRequest {
  return {
    maxMapCount: options.maxMapCount ?? readMaxMapCount().value,
    baselineVmas: options.baselineVmas ?? QEMU_BASELINE_VMAS,
    poolIncrease: poolIncreaseOf(door, options),
  };
}

/** The pool increase: given, or computed from the virtio-blk disks, or 0. */
function poolIncreaseOf(door: Door, options: Resolved<"poolIncrease" | "virtioBlk">): number {
  if (options.poolIncrease !== undefined && options.virtioBlk !== undefined) {
    refuseBoth(door, "poolIncrease", "virtioBlk", "give the increase or the disks it comes from, not both");
  }
  return options.virtioBlk === undefined ? (options.poolIncrease ?? 0) : poolIncreaseFor(options.virtioBlk);
}

const POLICY_SPEC_ALLOWED = `a list of policies, each once: names (${POLICY_NAMES.join(", ")}) or { policy, uncapped }`;

/** A what-if's policies: a list of names or { policy, uncapped } (a flag's comma list gives names). */
function checkPolicySpecs(door: Door, value: unknown, uncapped: boolean): PolicySpec[] {
  const specs = Array.isArray(value) ? value.map((item) => policySpecOf(item, uncapped)) : null;
  if (specs === null || specs.length === 0 || specs.includes(null)) throw badOption(door, "policies", value, POLICY_SPEC_ALLOWED);
  const labels = (specs as PolicySpec[]).map((s) => `${s.policy}/${s.uncapped}`);
  if (new Set(labels).size !== labels.length) throw badOption(door, "policies", value, POLICY_SPEC_ALLOWED);
  return specs as PolicySpec[];
}

function policySpecOf(item: unknown, uncapped: boolean): PolicySpec | null {
  const policyRule = OPTIONS.policy.rule;
  if (typeof item === "string") {
    const policy = policyRule.check(item);
    return policy === REFUSED ? null : { policy, uncapped };
  }
  if (!isRecord(item) || Object.keys(item).some((k) => k !== "policy" && k !== "uncapped")) return null;
  const policy = policyRule.check(item.policy);
  const own = item.uncapped === undefined ? false : BOOLEAN.check(item.uncapped);
  return policy === REFUSED || own === REFUSED ? null : { policy, uncapped: own };
}

export const START_OPTIONS = ["threads", "policy", "maxMapCount", "baselineVmas", "uncapped", "backend", "stackSize", "stackSlots", "poolIncrease"] as const satisfies readonly OptionName[];

export interface StartRequest {
  threads: number;
  policy: PolicyName;
  maxMapCount?: number;
  baselineVmas?: number;
  uncapped: boolean;
  backend?: "simulated" | "kernel";
  stackSize?: number;
  stackSlots?: number;
  poolIncrease: number;
}

export function resolveStartOptions(door: Door, given: unknown): StartRequest {
  const options = resolveOptions(door, START_OPTIONS, given);
  if (options.threads === undefined) missingOption(door, "threads", OPTIONS.threads.rule.allowed);
  if (options.policy === undefined) missingOption(door, "policy", OPTIONS.policy.rule.allowed);
  return { ...options, threads: options.threads, policy: options.policy, uncapped: options.uncapped === true, poolIncrease: options.poolIncrease ?? 0 };
}

export const WORKLOAD_OPTIONS = ["options", "seed", "timeoutMs", "signal"] as const satisfies readonly OptionName[];

export interface WorkloadRequest {
  options: Record<string, unknown>;
  seed: number;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** The seed a workload's coroutines() gets when none is given. */
export const DEFAULT_WORKLOAD_SEED = 1;

export function resolveWorkloadOptions(door: Door, given: unknown): WorkloadRequest {
  const options = resolveOptions(door, WORKLOAD_OPTIONS, given);
  return { ...options, options: options.options ?? {}, seed: options.seed ?? DEFAULT_WORKLOAD_SEED };
}

export const WATCH_OPTIONS = ["pids", "intervalMs", "stackSize", "policyOverrides", "trendWindowMs", "signal"] as const satisfies readonly OptionName[];

/** Seconds between a watch's samples by default, as `top`'s refresh. */
export const DEFAULT_WATCH_INTERVAL_MS = 2000;

export interface WatchRequest {
  /** undefined: every QEMU system emulator on the host, found anew each sample. */
  pids: number[] | undefined;
  intervalMs: number;
  stackSize: number;
  policyOverrides: ReadonlyMap<number, PolicyName>;
  trendWindowMs: number;
  signal: AbortSignal | undefined;
}

export function resolveWatchOptions(door: Door, given: unknown): WatchRequest {
  const options = resolveOptions(door, WATCH_OPTIONS, given);
  return {
    pids: options.pids,
    intervalMs: options.intervalMs ?? DEFAULT_WATCH_INTERVAL_MS,
    stackSize: options.stackSize ?? QEMU_STACK_SIZE,
    policyOverrides: options.policyOverrides ?? new Map(),
    trendWindowMs: options.trendWindowMs ?? DEFAULT_TREND_WINDOW_MS,
    signal: options.signal,
  };
}

export const SNAPSHOT_OPTIONS = ["stackSize", "policy"] as const satisfies readonly OptionName[];

export interface SnapshotRequest {
  stackSize: number;
  /** The policy given for this process, winning over its version's. */
  policy: PolicyName | undefined;
}

export function resolveSnapshotOptions(door: Door, given: unknown): SnapshotRequest {
  const options = resolveOptions(door, SNAPSHOT_OPTIONS, given);
  return { stackSize: options.stackSize ?? QEMU_STACK_SIZE, policy: options.policy };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export const PLAN_OPTIONS = ["policies", "maxMapCount", "baselineVmas", "qemuVersion", "machine", "signal"] as const satisfies readonly OptionName[];

export interface PlanRequest {
  /** undefined: every policy, batched both uncapped (as shipped) and capped (as intended). */
  policies: PolicySpec[] | undefined;
  maxMapCount: number;
  /** undefined: the running process's own, else QEMU_BASELINE_VMAS (plan-input.ts says which). */
  baselineVmas: number | undefined;
  qemuVersion: string | undefined;
  machine: string | undefined;
  signal: AbortSignal | undefined;
}

/** A plan's options; its policies as a what-if's (names or { policy, uncapped }). */
export function resolvePlanOptions(door: Door, given: unknown): PlanRequest {
  const { policies: rawPolicies, ...rest } = (isRecord(given) ? given : {}) as Record<string, unknown>;
  const options = resolveOptions(door, PLAN_OPTIONS, isRecord(given) ? { ...rest, policies: undefined } : given);
  return {
    policies: rawPolicies === undefined ? undefined : checkPolicySpecs(door, rawPolicies, false),
    maxMapCount: options.maxMapCount ?? readMaxMapCount().value,
    baselineVmas: options.baselineVmas,
    qemuVersion: options.qemuVersion,
    machine: options.machine,
    signal: options.signal,
  };
}
