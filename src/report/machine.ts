import { availableParallelism, cpus, release, totalmem } from "node:os";
import { readMaxMapCount } from "../vma/limits.js";

/** Where a result was produced: enough to tell two machines' figures apart. */
export interface MachineInfo {
  cpuModel: string;
  /** Logical CPUs available to this process. */
  cores: number;
  totalMemoryBytes: number;
  platform: string;
  arch: string;
  osRelease: string;
  nodeVersion: string;
  /** This host's vm.max_map_count (a run may use another limit: see each run's vmas.limit). */
  hostMaxMapCount: number;
  hostMaxMapCountSource: string;
  /** When the result was produced, ISO 8601 in UTC. */
  generatedAt: string;
}

export function machineInfo(now: Date = new Date()): MachineInfo {
  const host = readMaxMapCount();
  return {
    cpuModel: cpus()[0]?.model.trim() || "unknown",
    cores: availableParallelism(),
    totalMemoryBytes: totalmem(),
    platform: process.platform,
    arch: process.arch,
    osRelease: release(),
    nodeVersion: process.version,
    hostMaxMapCount: host.value,
    hostMaxMapCountSource: host.source,
    generatedAt: now.toISOString(),
  };
}
