/**
 * coropool's public API: what `import { … } from "coropool"` gives.
 *
 *   run(scenario, options)      any scenario, as `coropool run` runs it → the --json document
 *   replay(trace, options)      a trace or a QEMU log under each policy → `replay --json`'s results
 *   whatIf(log, options)        a QEMU log (or trace) under every policy → the `whatif --json` document
 *   plan(config, options)       a VM's configuration: its worst case under every policy → the `plan --json` document
 *   renderReport(document)      the HTML page `--report` writes, as a string
 *   startRuntime(options)       worker threads on one shared region, for your own coroutines
 *   defineWorkload(workload)    types a workload module
 *   watch(options)              live QEMU processes' stacks and VMAs: an async iterator of samples
 *   snapshot(pid, options)      one live process now
 *
 * See docs/api.md.
 */
export { run, type RunOptions, type ScenarioDocument, type ScenarioObject } from "./api/run.js";
export { replay, type PoolIncreaseOptions, type ReplayOptions, type TraceInput } from "./api/replay.js";
export { whatIf, type WhatIfOptions } from "./api/whatif.js";
export { plan, type PlanOptions, type PlanConfig } from "./api/plan.js";
export type { WhatIfDocument } from "./report/document.js";
export type { WhatIfReport, WhatIfInput } from "./report/whatif-document.js";
export type { WhatIfRow, WhatIfSeries } from "./replay/whatif.js";
export type { PolicySpec } from "./replay/replay-log.js";
export type { QemuLogFacts } from "./replay/input-format.js";
export type { VirtioBlkDevice } from "./replay/pool-increase.js";
export type { SeriesPoint } from "./replay/series.js";
export {
  startRuntime,
  type ClosedStats,
  type LiveStats,
  type RuntimeHandle,
  type StartRuntimeOptions,
  type WorkloadRun,
  type WorkloadRunOptions,
} from "./api/runtime-handle.js";
export { defineWorkload, type Workload, type WorkloadApi, type WorkloadSetup } from "./api/workload.js";
export { renderReport } from "./api/render.js";
export { watch, snapshot, type WatchOptions, type SnapshotApiOptions } from "./api/watch.js";
export type { ProcessSnapshot, Headroom } from "./host/snapshot.js";
export type { WatchSample, WatchedProcess } from "./host/watcher.js";
export { SCHEMA_VERSION, type ResultDocument } from "./report/document.js";
export type { ReplayResult } from "./replay/replay.js";
export type { RunResult, ThreadStats } from "./runtime/result.js";
export type { Sample } from "./runtime/sampler.js";
export type { ProgressCallback, SampleCallback } from "./experiments/options.js";
export { CoropoolError, InputError, VmaExhaustedError, STACK_ALLOC_FAILED, GUARD_PAGE_FAILED, type VmaFailureMessage } from "./errors.js";
export { CoroutineContext, CoroutineError, CoroutineErrorCode, type Coroutine, type CoroutineEntry, type CoroutineState } from "./coroutine/index.js";
export { POLICY_NAMES, type PolicyName } from "./pools/index.js";
export type { BackendName } from "./runtime/runtime.js";
export type { Scenario, ScenarioKind } from "./scenarios/types.js";
