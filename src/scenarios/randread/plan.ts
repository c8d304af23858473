import { formatByteSize } from "../../byte-size.js";
import type { RunPlan } from "../../runtime/runtime.js";
import type { RunResult } from "../../runtime/result.js";
import type { RandreadScenario } from "../types.js";
import { isJobResult, type RandreadPart, type RandreadPartResult } from "./part.js";
import type { RandreadJobResult } from "./engine.js";
import { mergedPercentilesUs, type LatencyPercentiles } from "./latency.js";

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
  /** Over every request of every IOThread: their histograms merged. */
  latencyUs: LatencyPercentiles;
}

export function randreadFigures(result: RunResult): RandreadFigures {
  const jobs = (result.parts as (RandreadPartResult | null)[]).filter((p): p is RandreadJobResult => p !== null && isJobResult(p));
  return {
    iops: jobs.reduce((a, j) => a + j.iops, 0),
    completed: jobs.reduce((a, j) => a + j.completed, 0),
    latencyUs: mergedPercentilesUs(jobs.map((j) => j.latencyHistogram)),
  };
}

/** 4096 -> "4k", 131072 -> "128k", as fio writes block sizes. */
export const formatBlockSize = formatByteSize;
