/**
 * The flags every runtime command shares (stress, imbalance, randread, run),
 * as entries of the flag table, and how a command's experiment runs with the
 * options they resolve to.
 */
import type { ProgressCallback, ThreadedExperimentOptions } from "../experiments/options.js";
import { POLICY_NAMES } from "../pools/index.js";
import { MAX_DEFAULT_STACK_CAPACITY, MAX_STACK_SLOTS } from "../runtime/runtime.js";
import { flag, type FlagEntry } from "./flag-table.js";
import { StepProgress } from "./progress.js";

/** The runtime flags, in the order help lists them. */
export const RUNTIME_FLAGS: FlagEntry[] = [
  flag("policies", "P[,P...]", `${POLICY_NAMES.join(", ")}; a comma list runs each in turn, side by side`),
  flag("threads", "N", "worker threads (overrides the scenario's)"),
  flag("maxMapCount", "N", "the VMA limit (default: the scenario's, else the host's)"),
  flag("baselineVmas", "N", "VMAs the rest of the process uses (default: this process's /proc/self/maps)"),
  flag("uncapped"),
  flag("seed", "N", "seed for everything random in the scenario (overrides the scenario's)"),
  flag("scenario", "NAME|FILE", "a bundled scenario by name (e.g. stress-small) or a scenario file (JSON; see scenarios/README.md)"),
  flag("json"),
  flag("backend", "B", "simulated (default: VMA accounting only) or kernel (real mmap + mprotect of every stack through koffi; Linux)"),
  flag("stackSize", "SIZE"),
  flag("check", undefined, "walk the shared region with the invariant checker at every phase boundary (every stack in exactly one place, sizes match lists, VMAs)"),
  flag("timeoutMs", "N", "stop a run not finished by then (default 600000; randread: what its longest cell can take); its threads are reported, exit 5"),
  flag("stackSlots", "N", `stacks the shared stack table holds (default: what the VMA limit allows, at most ${MAX_DEFAULT_STACK_CAPACITY}; up to ${MAX_STACK_SLOTS})`),
];

/** The runtime flags without some (a command that takes a scenario as its argument has no --scenario). */
export function runtimeFlagsWithout(...names: FlagEntry["name"][]): FlagEntry[] {
  return RUNTIME_FLAGS.filter((e) => !names.includes(e.name));
}

/**
 * Runs `experiment` with `options`, drawing its progress on a terminal (never
 * with --json) until it ends, however it ends.
 */
export async function withProgress<T>(
  options: ThreadedExperimentOptions,
  json: boolean,
  experiment: (options: ThreadedExperimentOptions) => Promise<T>,
): Promise<T> {
  const progress = new StepProgress();
  try {
    const onProgress: ProgressCallback | undefined = json ? undefined : progress.onProgress;
    return await experiment({ ...options, ...(onProgress ? { onProgress } : {}) });
  } finally {
    progress.finish();
  }
}
