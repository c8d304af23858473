/**
 * The flags every runtime command shares, and how they map onto an
 * experiment's typed options (src/experiments/options.ts).
 */
import { InputError } from "../errors.js";
import { MIN_IMBALANCE_THREADS } from "../scenarios/validate.js";
import { BUNDLED_SCENARIOS, bundledOrPath } from "../experiments/bundled.js";
import type { ProgressCallback, ThreadedExperimentOptions } from "../experiments/options.js";
import type { PolicyName } from "../pools/index.js";
import { BACKEND_NAMES, MAX_DEFAULT_STACK_CAPACITY, MAX_STACK_SLOTS, type BackendName } from "../runtime/runtime.js";
import { byteSizeFlag, integerFlag, POLICY_CHOICES, policyListFlag, shownArg, type OptionSpec, type ParsedArgs } from "./args.js";
import { StepProgress } from "./progress.js";

/** The flags every runtime command shares. */
export const RUNTIME_OPTIONS: OptionSpec = {
  policy: { type: "string" },
  threads: { type: "string" },
  "max-map-count": { type: "string" },
  "baseline-vmas": { type: "string" },
  uncapped: { type: "boolean" },
  seed: { type: "string" },
  scenario: { type: "string" },
  json: { type: "boolean" },
  backend: { type: "string" },
  "stack-size": { type: "string" },
  check: { type: "boolean" },
  "timeout-ms": { type: "string" },
  "stack-slots": { type: "string" },
};

export const RUNTIME_HELP = `  --policy P[,P...]      ${POLICY_CHOICES}; a comma list runs each in turn, side by side
  --threads N            worker threads (overrides the scenario's)
  --max-map-count N      the VMA limit (default: the scenario's, else the host's)
  --baseline-vmas N      VMAs the rest of the process uses (default: /proc/self/maps)
  --uncapped             batched: no hard cap from max_map_count (QEMU's practical behaviour;
                         elastic keeps its own cap)
  --seed N               seed for everything random in the scenario
  --scenario NAME|FILE   a bundled scenario by name (e.g. stress-small) or a scenario
                         file (JSON; see scenarios/README.md)
  --backend B            simulated (default: VMA accounting only) or kernel (real mmap +
                         mprotect of every stack through koffi; Linux)
  --stack-size SIZE      kernel backend: bytes per stack, e.g. 64k (default 1m, as QEMU)
  --check                walk the shared region with the invariant checker at every phase
                         boundary (every stack in exactly one place, sizes match lists, VMAs)
  --timeout-ms N         stop a run not finished by then (default 600000; randread: what its
                         longest cell can take); its threads are reported, exit 5
  --stack-slots N        stacks the shared stack table holds (default: what the VMA limit
                         allows, at most ${MAX_DEFAULT_STACK_CAPACITY}; up to ${MAX_STACK_SLOTS})
  --json                 machine-readable result on stdout, nothing else there
  -h, --help             this help`;

export interface RuntimeFlags {
  policies: PolicyName[];
  threads: number | undefined;
  maxMapCount: number | undefined;
  baselineVmas: number | undefined;
  uncapped: boolean;
  seed: number | undefined;
  /** The scenario file's path (a bundled scenario's name already resolved). */
  scenario: string | undefined;
  json: boolean;
  backend: BackendName;
  stackBytes: number | undefined;
  check: boolean;
  timeoutMs: number | undefined;
  stackSlots: number | undefined;
}

export const MAX_THREADS = 64;

export function runtimeFlags(values: ParsedArgs["values"], defaultPolicies: PolicyName[]): RuntimeFlags {
  const scenario = values.scenario;
  if (scenario === "") throw new InputError("ERR_USAGE", "bad value for --scenario: ''; give the path of a scenario file");
  return {
    policies: policyListFlag(values.policy, defaultPolicies),
    threads: integerFlag("threads", values.threads, 1, MAX_THREADS),
    maxMapCount: integerFlag("max-map-count", values["max-map-count"], 1, 0x7fffffff),
    baselineVmas: integerFlag("baseline-vmas", values["baseline-vmas"], 0, 0x7fffffff),
    uncapped: values.uncapped === true,
    seed: integerFlag("seed", values.seed, 0, 0xffffffff),
    scenario: typeof scenario === "string" ? bundledOrPath(BUNDLED_SCENARIOS, scenario, "bad value for --scenario") : undefined,
    json: values.json === true,
    backend: backendFlag(values.backend),
    stackBytes: byteSizeFlag("stack-size", values["stack-size"], PAGE_BYTES, MAX_STACK_BYTES),
    check: values.check === true,
    timeoutMs: integerFlag("timeout-ms", values["timeout-ms"], 100, 86_400_000),
    stackSlots: integerFlag("stack-slots", values["stack-slots"], 1, MAX_STACK_SLOTS),
  };
}

/** Stacks are whole pages; 256 MiB is far past any coroutine's needs. */
const PAGE_BYTES = 4096;
const MAX_STACK_BYTES = 256 << 20;

function backendFlag(value: unknown): BackendName {
  if (value === undefined) return "simulated";
  const text = String(value);
  if (!(BACKEND_NAMES as string[]).includes(text)) {
    throw new InputError("ERR_USAGE", `bad value for --backend: '${shownArg(text)}'; allowed: ${BACKEND_NAMES.join(", ")}`);
  }
  return text as BackendName;
}

/**
 * Runs `experiment` with the options the flags give, drawing its progress
 * on a terminal (never with --json) until it ends, however it ends.
 */
export async function withExperimentOptions<T>(
  flags: RuntimeFlags,
  signal: AbortSignal,
  experiment: (options: ThreadedExperimentOptions) => Promise<T>,
): Promise<T> {
  const progress = new StepProgress();
  try {
    return await experiment({ ...experimentOptions(flags, progress.onProgress), signal });
  } finally {
    progress.finish();
  }
}

/** The experiment's options the flags give; progress goes to `onProgress` unless --json. */
function experimentOptions(flags: RuntimeFlags, onProgress?: ProgressCallback): ThreadedExperimentOptions {
  return {
    policies: flags.policies,
    threads: flags.threads,
    maxMapCount: flags.maxMapCount,
    baselineVmas: flags.baselineVmas,
    uncapped: flags.uncapped,
    seed: flags.seed,
    backend: flags.backend,
    stackSize: flags.stackBytes,
    check: flags.check,
    timeoutMs: flags.timeoutMs,
    stackSlots: flags.stackSlots,
    ...(onProgress && !flags.json ? { onProgress } : {}),
  };
}

/** --threads for an imbalance run: one thread bursts and at least one other works. */
export function checkImbalanceThreads(flags: RuntimeFlags): void {
  if (flags.threads !== undefined && flags.threads < MIN_IMBALANCE_THREADS) {
    throw new InputError("ERR_USAGE", `bad value for --threads: '${flags.threads}'; allowed: an integer from ${MIN_IMBALANCE_THREADS} to ${MAX_THREADS} (one thread bursts, the others work)`);
  }
}
