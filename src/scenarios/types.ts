/**
 * What users run: the shapes of the scenario files under scenarios/ (JSON),
 * after validation. Sizes are counts of requests or coroutines; times carry
 * their unit in the name.
 */

/** A virtio-blk device: its queues, and which IOThreads serve them. */
export interface DeviceConfig {
  name: string;
  numQueues: number;
  queueSize: number;
  /** Indices of the IOThreads serving this device's queues (spread round-robin). */
  iothreads: number[];
}

/** A guest: IOThreads, the main loop, and devices. */
export interface GuestConfig {
  iothreads: number;
  /** QEMU's main loop runs coroutines too; it is one more thread when true. */
  mainLoop: boolean;
  devices: DeviceConfig[];
}

/**
 * vma-exhaustion: every thread repeatedly has a burst of requests in flight
 * (each in its own coroutine), then completes them all. The pool size comes
 * from the devices, as QEMU raises it per device.
 */
export interface StressScenario {
  kind: "vma-exhaustion";
  description: string;
  guest: GuestConfig;
  rounds: number;
  /**
   * Requests in flight on an IOThread in one round, as a fraction of the queue
   * entries it serves, drawn uniformly from [min, max] per thread and round.
   */
  inFlight: { min: number; max: number };
  /** Requests in flight on the main loop per round (it serves no queues). */
  mainLoopInFlight: number;
  /** null: the host's vm.max_map_count. */
  maxMapCount: number | null;
  seed: number;
}

/**
 * imbalance: one thread bursts, then goes quiet while the others keep
 * needing coroutines.
 */
export interface ImbalanceScenario {
  kind: "imbalance";
  description: string;
  threads: number;
  burstThread: number;
  /** Coroutines the bursting thread has in flight at once, before it goes quiet. */
  burst: number;
  /** Then each other thread runs this many rounds of `inFlight` coroutines. */
  rounds: number;
  inFlight: number;
  /** Added to the pool size before the run (as devices would). */
  poolSizeIncrease: number;
  maxMapCount: number | null;
  seed: number;
}

/**
 * burst-idle: threads 0 .. burstThreads-1 have bursts in flight, then the
 * whole process stays quiet for a while, then the other threads work. Shows
 * what each pool keeps mapped after a burst, over time.
 */
export interface BurstIdleScenario {
  kind: "burst-idle";
  description: string;
  threads: number;
  burstThreads: number;
  /** Coroutines each bursting thread has in flight at once, per burst. */
  burst: number;
  bursts: number;
  /** The quiet period, in ms: no thread runs a coroutine. */
  quietMs: number;
  /** Then each other thread runs this many rounds of `inFlight` coroutines. */
  rounds: number;
  inFlight: number;
  /** Added to the pool size before the run (as devices would). */
  poolSizeIncrease: number;
  maxMapCount: number | null;
  seed: number;
}

/** A block device model: fixed latency plus transfer time at a bandwidth. */
export interface DeviceModel {
  latencyUs: number;
  bandwidthMBps: number;
}

/** randread: closed-loop random reads, like fio's randread job. */
export interface RandreadScenario {
  kind: "randread";
  description: string;
  /** IOThreads, one job each. */
  threads: number;
  blockSizes: number[];
  iodepths: number[];
  durationMs: number;
  device: DeviceModel;
  seed: number;
}

/** custom: a user's module exporting a generator-based workload. */
export interface CustomScenario {
  kind: "custom";
  description: string;
  /** Path of the module, relative to the scenario file. */
  module: string;
  threads: number;
  /** Passed to the workload as is. */
  options: Record<string, unknown>;
  maxMapCount: number | null;
  seed: number;
}

export type Scenario = StressScenario | ImbalanceScenario | RandreadScenario | CustomScenario | BurstIdleScenario;
export type ScenarioKind = Scenario["kind"];
export const SCENARIO_KINDS: ScenarioKind[] = ["vma-exhaustion", "imbalance", "randread", "custom", "burst-idle"];
