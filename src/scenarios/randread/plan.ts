import { formatByteSize } from "../../byte-size.js";
import type { RunPlan } from "../../runtime/runtime.js";
import type { RunResult } from "../../runtime/result.js";
import type { RandreadScenario } from "../types.js";
import { isJobResult, type RandreadPart, type RandreadPartResult } from "./part.js";
import type { RandreadJobResult } from "./engine.js";

/** One cell of the table: a block size at an iodepth. */
export interface RandreadCase {
  blockSize: number;
  iodepth: number;
}

export function randreadCases(s: RandreadScenario): RandreadCase[] {
  return s.blockSizes.flatMap((blockSize) => s.iodepths.map((iodepth) => ({ blockSize, iodepth })));
}

/** Every IOThread runs the same job on its own device, as fio's numjobs does. */
export function planRandread(s: RandreadScenario, c: RandreadCase): RunPlan {
  const part: RandreadPart = { kind: "randread", blockSize: c.blockSize, iodepth: c.iodepth, durationMs: s.durationMs, device: s.device };
  return { parts: Array.from({ length: s.threads }, () => part), poolSizeIncrease: 0, progressUnits: s.threads };
}

/** A run's figures, summed over its IOThreads. */
export interface RandreadFigures {
  iops: number;
  completed: number;
  /** The worst thread's percentiles (with one thread: that thread's). */
  latencyUs: { p50: number; p90: number; p99: number; p999: number };
}

export function randreadFigures(result: RunResult): RandreadFigures {
  const jobs = (result.parts as (RandreadPartResult | null)[]).filter((p): p is RandreadJobResult => p !== null && isJobResult(p));
  const worst = (key: "p50" | "p90" | "p99" | "p999") => Math.max(0, ...jobs.map((j) => j.latencyUs[key]));
  return {
    iops: jobs.reduce((a, j) => a + j.iops, 0),
    completed: jobs.reduce((a, j) => a + j.completed, 0),
    latencyUs: { p50: worst("p50"), p90: worst("p90"), p99: worst("p99"), p999: worst("p999") },
  };
}

/** 4096 -> "4k", 131072 -> "128k", as fio writes block sizes. */
export const formatBlockSize = formatByteSize;
