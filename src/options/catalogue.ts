/**
 * Every option coropool takes, by its one name: the rule its value must meet
 * and what it is. The CLI's flag table (src/cli/flag-table.ts) maps flags
 * onto these names and writes its help lines from `about`; each entry point
 * (./doors.ts) takes a set of them. A name means the same on every floor:
 * the layers below take the resolved value under the same name.
 */
import { POLICY_NAMES, type PolicyName } from "../pools/index.js";
import { parseQemuVersion } from "../vmconfig/qemu-version.js";
import { VIRTIO_BLK_QUEUE_SIZE, VIRTIO_QUEUE_MAX } from "../virtio-limits.js";
import { parseVirtioBlkSpec, type VirtioBlkDevice } from "../replay/pool-increase.js";
import { BACKEND_NAMES, MAX_STACK_SLOTS, type BackendName } from "../runtime/runtime.js";
import type { ProgressCallback, SampleCallback } from "../experiments/options.js";
import { MAX_MAX_MAP_COUNT, MAX_ROUNDS, MAX_SEED, MAX_THREADS } from "../scenarios/validate.js";
import { MAX_BLOCK_SIZE, MAX_DURATION_MS, MAX_IODEPTH, MIN_DURATION_MS, SECTOR_SIZE } from "../scenarios/validate.js";
import { ABORT_SIGNAL, BOOLEAN, byteSize, callback, CLONEABLE_OBJECT, distinctList, integer, nonEmptyText, oneOf, parsed, type OptionRule, REFUSED } from "./rule.js";

export interface OptionDef<T> {
  readonly rule: OptionRule<T>;
  /** What the option is, for help texts and docs (the default included). */
  readonly about: string;
}

function def<T>(rule: OptionRule<T>, about: string): OptionDef<T> {
  return { rule, about };
}

/** Stacks are whole pages; 256 MiB is far past any coroutine's needs. */
const PAGE_BYTES = 4096;
const MAX_STACK_BYTES = 256 << 20;
/** The most a pool size change can be: a trace's `inc` takes 32 bits. */
export const MAX_POOL_INCREASE = 0xffffffff;
/** A run's time limit: from 100 ms (less is no run) to a day. */
const MIN_TIMEOUT_MS = 100;
const MAX_TIMEOUT_MS = 86_400_000;

const POLICY = oneOf<PolicyName>(POLICY_NAMES);

/** Linux's largest pid (PID_MAX_LIMIT on 64-bit). */
export const MAX_PID = 4_194_304;
/** One process id: a watch's PID argument, snapshot()'s pid, and each pid of pids and policyOverrides. */
export const PID = integer(1, MAX_PID, `a process id, an integer from 1 to ${MAX_PID}`);
/** A watch samples at most 10 times a second: a 65k-map process costs tens of ms to read. */
const MIN_INTERVAL_MS = 100;

/** "7.2", "10.0.2": a QEMU version, its major and minor kept. */
const QEMU_VERSION = parsed<string>("a QEMU version such as 7.2 or 10.0.2", (value) => {
  if (typeof value !== "string") throw new TypeError("not text");
  parseQemuVersion(value);
  return value;
});

/** "PID=POLICY,…" or a map/object of pid → policy. */
const POLICY_OVERRIDES = parsed<Map<number, PolicyName>>(
  `PID=POLICY, comma-separated (POLICY one of ${POLICY_NAMES.join(", ")}), e.g. 4242=batched, or an object or Map of pid to policy`,
  (value) => {
    const entries: [unknown, unknown][] =
      typeof value === "string" ? value.split(",").map((item) => item.split("=") as [string, string?]).map(([k, v]) => [/^\d+$/.test(k) ? Number(k) : k, v])
      : value instanceof Map ? [...value.entries()]
      : typeof value === "object" && value !== null && !Array.isArray(value) ? Object.entries(value).map(([k, v]) => [/^\d+$/.test(k) ? Number(k) : k, v])
      : [];
    if (entries.length === 0) throw new TypeError("no entries");
    const map = new Map<number, PolicyName>();
    for (const [pid, policy] of entries) {
      const id = PID.check(pid);
      const name = POLICY.check(policy);
      if (id === REFUSED || map.has(id)) throw new TypeError("bad pid");
      if (name === REFUSED) throw new TypeError("bad policy");
      map.set(id, name);
    }
    return map;
  },
);

/** "NQxQS,..." or a list of { numQueues, queueSize }, each as QEMU would take it. */
const VIRTIO_BLK = parsed<VirtioBlkDevice[]>(
  `NUM_QUEUESxQUEUE_SIZE, comma-separated (num-queues 1 to ${VIRTIO_QUEUE_MAX}, queue-size a power of two from ${VIRTIO_BLK_QUEUE_SIZE.min} to ${VIRTIO_BLK_QUEUE_SIZE.max}), e.g. 2x512,4x256, or a list of { numQueues, queueSize }`,
  (value) => {
    if (typeof value === "string") return parseVirtioBlkSpec(value);
    if (!Array.isArray(value) || value.length === 0) throw new TypeError("not a list");
    return parseVirtioBlkSpec(value.map((d: { numQueues?: unknown; queueSize?: unknown }) => `${String(d?.numQueues)}x${String(d?.queueSize)}`).join(","));
  },
);

export const OPTIONS = {
  policies: def(
    distinctList(POLICY, POLICY_NAMES.length, `${POLICY_NAMES.join(", ")} or a list of them, each once`),
    "the pool policies, each in turn, side by side",
  ),
  policy: def(POLICY, "the pool policy"),
  threads: def(integer(1, MAX_THREADS), "worker threads (each one of QEMU's IOThreads)"),
  maxMapCount: def(integer(1, MAX_MAX_MAP_COUNT), "the VMA limit (vm.max_map_count)"),
  baselineVmas: def(integer(0, MAX_MAX_MAP_COUNT), "VMAs the process maps besides coroutine stacks"),
  uncapped: def(BOOLEAN, "batched: no hard cap from max_map_count (QEMU's practical behaviour on Linux; elastic keeps its own cap)"),
  seed: def(integer(0, MAX_SEED), "seed for everything random in the run"),
  backend: def(oneOf<BackendName>(BACKEND_NAMES), "simulated (VMA accounting only) or kernel (a real mmap + mprotect for every stack, through koffi; Linux)"),
  stackSize: def(byteSize(PAGE_BYTES, MAX_STACK_BYTES, "64k or 1m"), "bytes per coroutine stack (default 1m, as QEMU): the kernel backend's stacks, the smallest map watch counts as one"),
  check: def(BOOLEAN, "walk the shared region with the invariant checker (every stack in exactly one place, sizes match lists, VMAs)"),
  timeoutMs: def(integer(MIN_TIMEOUT_MS, MAX_TIMEOUT_MS), "stop a run not finished by then; its threads are reported"),
  stackSlots: def(integer(1, MAX_STACK_SLOTS), "stacks the shared stack table holds"),
  poolIncrease: def(integer(0, MAX_POOL_INCREASE), "the pool size increase the VM's devices made: the sum of num-queues × queue-size / 2 over its virtio-blk disks"),
  virtioBlk: def(VIRTIO_BLK, "the VM's virtio-blk disks, num-queues x queue-size each: the pool increase is computed from them"),
  signal: def(ABORT_SIGNAL, "stops the work when it fires; the results so far are returned, marked interrupted"),
  onProgress: def(callback<ProgressCallback>(), "called with the work done so far"),
  onSample: def(callback<SampleCallback>(), "called with every sample of the shared counters"),
  options: def(CLONEABLE_OBJECT, "passed to the workload's coroutines() as `options`"),
  rounds: def(integer(1, MAX_ROUNDS), "the scenario's number of rounds"),
  durationMs: def(integer(MIN_DURATION_MS, MAX_DURATION_MS), "how long each randread cell runs"),
  iodepths: def(distinctList(integer(1, MAX_IODEPTH), 64, `a list of distinct integers from 1 to ${MAX_IODEPTH}, e.g. 1,16`), "randread's iodepths"),
  blockSizes: def(
    distinctList(byteSize(SECTOR_SIZE, MAX_BLOCK_SIZE, "4k"), 64, `a list of distinct multiples of ${SECTOR_SIZE} bytes up to 16m, e.g. 4k,128k`),
    "randread's block sizes",
  ),
  pids: def(distinctList(PID, 4096, `a list of distinct process ids from 1 to ${MAX_PID}`), "the processes to watch, whatever they run (default: every QEMU system emulator on the host)"),
  intervalMs: def(integer(MIN_INTERVAL_MS, MAX_TIMEOUT_MS), "milliseconds between two samples of a watch"),
  trendWindowMs: def(integer(MIN_INTERVAL_MS, MAX_TIMEOUT_MS), "how far back a watch's trend (stacks a minute) looks"),
  policyOverrides: def(POLICY_OVERRIDES, "the pool policy of a vendor build that backports a pool, by pid: it wins over the policy read from the version"),
  qemuVersion: def(QEMU_VERSION, "the planned QEMU's version (default: read from the running process or the emulator the input names)"),
  machine: def(nonEmptyText("a machine type, e.g. pc-q35-7.2 or q35"), "the machine type to plan for, over the input's own (its compat defaults change device defaults)"),
  pid: def(PID, "a running QEMU: plan its command line, its version and its own VMAs"),
  scenario: def(nonEmptyText("a bundled scenario's name or a scenario file's path"), "a bundled scenario by name (e.g. stress-small) or a scenario file (JSON; see scenarios/README.md)"),
} as const;

export type OptionName = keyof typeof OPTIONS;

/** The resolved value type of an option. */
export type OptionValue<N extends OptionName> = (typeof OPTIONS)[N] extends OptionDef<infer T> ? T : never;

/**
 * Names kept for one minor version after they were renamed: each resolves to
 * the new name, with a deprecation warning (CHANGELOG.md says when it goes).
 */
export const DEPRECATED_NAMES: Readonly<Record<string, OptionName>> = { poolSizeIncrease: "poolIncrease" };
