/**
 * The JSON every command but replay prints with --json, and what the HTML
 * report is drawn from: the command's report with `schemaVersion` and the
 * machine in front. The schema is docs/result.schema.json, described in
 * docs/json.md. Bump SCHEMA_VERSION when a key is renamed or removed or
 * changes meaning; adding a key does not need a new version, but the schema
 * file must describe it (the tests validate every command's output).
 */
import type { BurstIdleReport } from "../experiments/burst-idle.js";
import type { CustomReport } from "../experiments/custom.js";
import type { DemoParts } from "../experiments/demo.js";
import type { ImbalanceReport } from "../experiments/imbalance.js";
import type { RandreadReport } from "../experiments/randread.js";
import type { RealAbortReport } from "../experiments/real-abort.js";
import type { StressReport } from "../experiments/stress.js";
import { machineInfo, type MachineInfo } from "./machine.js";
import type { WhatIfReport } from "./whatif-document.js";
import type { PlanReport } from "./plan-document.js";

export const SCHEMA_VERSION = 1;

/** `interrupted`: present (true) only when a signal stopped the command before it finished; the runs are those done so far. */
export type Versioned<R> = { schemaVersion: typeof SCHEMA_VERSION; machine: MachineInfo; interrupted?: true } & R;

export type StressDocument = Versioned<StressReport>;
/** stress --backend kernel: each policy in a child process at the host's real limit; no time series. */
export type KernelStressDocument = Versioned<RealAbortReport>;
export type ImbalanceDocument = Versioned<ImbalanceReport>;
export type RandreadDocument = Versioned<RandreadReport>;
export type CustomDocument = Versioned<CustomReport>;
/** coropool whatif: a log or trace under each policy, with the series its page draws. */
export type WhatIfDocument = Versioned<WhatIfReport>;
export type BurstIdleDocument = Versioned<BurstIdleReport>;
/** coropool plan: a VM's configuration, its worst case under each policy (planDocument in docs/result.schema.json). */
export type PlanDocument = Versioned<PlanReport>;

/** The demo's four parts, versioned like the others. */
export interface DemoDocument extends DemoParts {
  schemaVersion: typeof SCHEMA_VERSION;
  command: "demo";
  machine: MachineInfo;
  interrupted?: true;
}

export type ResultDocument =
  | StressDocument
  | KernelStressDocument
  | ImbalanceDocument
  | RandreadDocument
  | CustomDocument
  | BurstIdleDocument
  | DemoDocument
  | WhatIfDocument
  | PlanDocument;

/** A command's report as a versioned document; keys in a fixed order: schemaVersion, command, machine, then the report's. */
export function toDocument<R extends { command: string }>(report: R, machine: MachineInfo = machineInfo()): Versioned<R> {
  const { command, ...rest } = report;
  return { schemaVersion: SCHEMA_VERSION, command, machine, ...rest } as unknown as Versioned<R>;
}

export function demoDocument(parts: DemoParts, machine: MachineInfo = machineInfo()): DemoDocument {
  return { schemaVersion: SCHEMA_VERSION, command: "demo", machine, ...parts };
}
