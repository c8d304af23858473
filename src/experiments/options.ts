/**
 * What every experiment takes besides its scenario: typed options (the CLI
 * maps its flags onto them in src/cli/runtime-flags.ts; a program passes
 * them directly), and how they become one Runtime's options per policy.
 */
import type { PolicyName } from "../pools/index.js";
import type { BackendName, RuntimeOptions } from "../runtime/runtime.js";
import type { Sample } from "../runtime/sampler.js";

/**
 * Units of work done so far in one step of an experiment, of `total` when
 * known. A step is what runs at one time and is named for a person, e.g.
 * "stress (legacy)": each new step counts from 0 again.
 */
export type ProgressCallback = (done: number, total: number | undefined, step: string) => void;

/** Every sample of the shared counters, with the policy of the run it was taken in. */
export type SampleCallback = (sample: Sample, policy: PolicyName) => void;

export interface ExperimentOptions {
  /** The policies to run, one after another; default: the experiment's own list. */
  policies?: PolicyName[];
  /** The VMA limit; default: the scenario's, else the host's vm.max_map_count. */
  maxMapCount?: number;
  /** VMAs the rest of the process uses; default: this process's /proc/self/maps. */
  baselineVmas?: number;
  /** batched: no hard cap from max_map_count (QEMU's practical behaviour). */
  uncapped?: boolean;
  /** simulated (default): VMA accounting only; kernel: every stack a real mmap + mprotect. */
  backend?: BackendName;
  /** Kernel backend: bytes per stack (default 1 MiB, as QEMU), a multiple of the page size. */
  stackSize?: number;
  /** Replaces the scenario's seed. */
  seed?: number;
  /** A run not finished by then is stopped and its threads reported dead. */
  timeoutMs?: number;
  /** Run the invariant checker at every phase boundary. */
  check?: boolean;
  /** Stacks the shared stack table holds (--stack-slots); default: what the VMA limit allows, at most 2^21. */
  stackSlots?: number;
  /**
   * Stops the experiment when it fires: the run going on is stopped (its
   * workers terminated, its stacks accounted for) and reported with
   * `interrupted: true`; no further run starts.
   */
  signal?: AbortSignal;
  onProgress?: ProgressCallback;
  onSample?: SampleCallback;
}

/** Options of the experiments whose scenario names its thread count (every kind but vma-exhaustion). */
export interface ThreadedExperimentOptions extends ExperimentOptions {
  /** Worker threads; replaces the scenario's. */
  threads?: number;
}

/** The scenario with the options' seed in place of its own. */
export function withSeed<S extends { seed: number }>(scenario: S, options: ExperimentOptions): S {
  return options.seed === undefined ? scenario : { ...scenario, seed: options.seed };
}

/** One Runtime's options for one policy: the experiment's options over what the scenario says. */
export function runtimeOptionsFor(
  options: ExperimentOptions,
  policy: PolicyName,
  threads: number,
  scenarioMaxMapCount: number | null,
): RuntimeOptions {
  const onSample = options.onSample;
  return {
    threads,
    policy,
    maxMapCount: options.maxMapCount ?? scenarioMaxMapCount ?? undefined,
    baselineVmas: options.baselineVmas,
    uncapped: options.uncapped === true,
    backend: options.backend ?? "simulated",
    stackSize: options.stackSize,
    check: options.check === true,
    timeoutMs: options.timeoutMs,
    stackSlots: options.stackSlots,
    signal: options.signal,
    ...(onSample ? { onSample: (sample: Sample) => onSample(sample, policy) } : {}),
  };
}
