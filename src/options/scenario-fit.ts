/**
 * The run options checked against the scenario they run: what only the
 * scenario can tell. `threads` must fit the kind (a guest's IOThreads set
 * their own; imbalance needs the bursting thread and one more), and the
 * kernel backend must exist here and stay below this host's real limit.
 */
import type { ThreadedExperimentOptions } from "../experiments/options.js";
import { KERNEL_SAFETY_MARGIN_VMAS } from "../runtime/runtime.js";
import { kernelBackendUnavailableReason } from "../stacks/kernel-backend.js";
import { threadsRule } from "../scenarios/registry.js";
import type { Scenario } from "../scenarios/types.js";
import { readMaxMapCount } from "../vma/limits.js";
import { InputError } from "../errors.js";
import { badOption, optionLabel, type Door } from "./door.js";

/** Refuses what the options cannot do with this scenario, before anything runs. */
export function checkOptionsFitScenario(door: Door, scenario: Scenario, options: ThreadedExperimentOptions, where: RunPlace = "in-process"): void {
  if (options.threads !== undefined) checkThreads(door, scenario, options.threads);
  if (options.backend !== "kernel") return;
  const scenarioLimit = "maxMapCount" in scenario ? scenario.maxMapCount : null;
  checkKernelBackend(door, where === "in-process" ? (options.maxMapCount ?? scenarioLimit) : null);
}

/**
 * Where real stacks are mapped: in this process (held below the host's
 * limit), or in child processes that run into the host's real limit on
 * purpose (`coropool stress --backend kernel`).
 */
export type RunPlace = "in-process" | "child-processes";

function checkThreads(door: Door, scenario: Scenario, threads: number): void {
  const rule = threadsRule(scenario);
  if (rule === null) {
    throw badOption(door, "threads", threads, `none for kind '${scenario.kind}': the guest's IOThreads and main loop set the threads (edit the scenario)`);
  }
  if (threads < rule.min || threads > rule.max) throw badOption(door, "threads", threads, `${rule.allowed} for kind '${scenario.kind}'`);
}

/**
 * An in-process run of real stacks stays KERNEL_SAFETY_MARGIN_VMAS below the
 * host's limit: a Node process that really runs out of VMAs dies inside V8.
 * `limit`: the run's own limit (null: the host's, less the margin).
 */
export function checkKernelBackend(door: Door, limit: number | null): void {
  const reason = kernelBackendUnavailableReason();
  if (reason !== null) throw new InputError("ERR_BACKEND", `${optionLabel(door, "backend")} kernel: ${reason}`);
  const host = readMaxMapCount().value;
  const ceiling = host - KERNEL_SAFETY_MARGIN_VMAS;
  if (limit !== null && limit > ceiling) {
    throw badOption(
      door,
      "maxMapCount",
      limit,
      `at most ${ceiling} with the kernel backend (${KERNEL_SAFETY_MARGIN_VMAS} VMAs below this host's real limit ${host}: a Node process that really runs out dies inside V8), or 'coropool stress --backend kernel' to reproduce the real abort in a child process`,
    );
  }
}
