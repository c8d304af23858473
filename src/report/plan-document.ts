/**
 * The plan's report: what `coropool plan --json` prints (schema
 * planDocument in docs/result.schema.json) and what its page is drawn from. Rows as the
 * what-if's (whatif-document.ts), with the schedule part of each peak and
 * abort; `input` says what was read and where each fact came from.
 */
import { deviceLabel, type Demand } from "../plan/demand.js";
import type { PlanOutcome, PlanRow } from "../plan/plan.js";
import { poolLabel, poolOfVersion } from "../vmconfig/qemu-version.js";
import { baselineRoomNote } from "./whatif-document.js";
import type { PlanInput } from "../plan/plan-input.js";
import type { Ignored, StorageDevice } from "../vmconfig/index.js";

export interface PlanReport {
  command: "plan";
  /** What was read: "command line", a file's path, "pid 1234". */
  source: string;
  input: PlanInputReport;
  /** The limit asked about, and the VMAs the process has besides stacks. */
  maxMapCount: number;
  baselineVmas: number;
  schedule: PlanScheduleReport;
  /** The series' x is the schedule's event number. */
  axis: "event";
  rows: PlanRow[];
  interrupted?: true;
}

export interface PlanInputReport {
  format: PlanInput["format"];
  vm: string | null;
  emulator: string | null;
  qemuVersion: { value: string | null; from: string };
  /** The pool this version ships: "legacy", "batched (uncapped)", or null (version unknown). */
  qemuPolicy: string | null;
  machine: { type: string; version: string | null; from: string; why: string };
  vcpus: { value: number; why: string };
  baselineVmas: { value: number; from: string };
  threads: { index: number; kind: string; name: string; mostCoroutines: number }[];
  devices: PlanDeviceReport[];
  poolIncrease: { total: number; items: { device: string; amount: number; why: string }[] };
  ignored: Ignored[];
  unplanned: { what: string; why: string }[];
}

export interface PlanDeviceReport {
  device: string;
  kind: StorageDevice["kind"];
  /** The threads that create its coroutines, and the one they terminate on. */
  creators: string[];
  terminator: string;
  requests: number;
  coroutinesPerRequest: number;
  coroutines: number;
  why: string[];
}

export interface PlanScheduleReport {
  rounds: number;
  settled: boolean;
  /** Hoard passes after the rounds (0: no thread creates coroutines another frees). */
  hoardPasses: number;
  /** How the schedule is built, one sentence a line. */
  description: string[];
  /** The parts of one round (every round has the same), with their lines in the first round. */
  parts: { name: string; live: number; firstLine: number; lastLine: number }[];
  /** Lines in the schedule's trace (what -o writes). */
  lines: number;
}

export function planReport(input: PlanInput, outcome: PlanOutcome, maxMapCount: number): PlanReport {
  const { demand, schedule } = outcome;
  const pool = poolOfVersion(input.version);
  return {
    command: "plan",
    source: input.source,
    input: {
      format: input.format,
      vm: input.model.name,
      emulator: input.model.emulator,
      qemuVersion: input.qemuVersion,
      qemuPolicy: pool === null ? null : poolLabel(pool),
      machine: machineOf(input),
      vcpus: { value: input.model.vcpus.value, why: input.model.vcpus.why },
      baselineVmas: baselineOf(input, outcome),
      threads: demand.threads.map((t) => ({ index: t.index, kind: t.kind, name: t.name, mostCoroutines: mostOn(demand, t.index) })),
      devices: devicesOf(demand, input),
      poolIncrease: { total: demand.totalPoolIncrease, items: demand.poolIncrease.map((p) => ({ ...p })) },
      ignored: [...input.model.ignored],
      unplanned: [...demand.unplanned],
    },
    maxMapCount,
    baselineVmas: outcome.baseline.vmas,
    schedule: {
      rounds: schedule.rounds,
      settled: schedule.settled,
      hoardPasses: schedule.hoardPasses,
      description: scheduleDescription(schedule, demand),
      parts: schedule.parts.filter((p) => p.round === 1).map((p) => ({ name: p.name, live: p.live, firstLine: p.firstLine, lastLine: p.lastLine })),
      lines: schedule.lines,
    },
    axis: "event",
    rows: outcome.rows,
    ...(outcome.interrupted ? { interrupted: true as const } : {}),
  };
}

/** The baseline the replays ran with, and where each part of it came from. */
function baselineOf(input: PlanInput, outcome: PlanOutcome): { value: number; from: string } {
  const { threadPool, threadPoolWhy, vmas } = outcome.baseline;
  if (threadPool === 0) return input.baselineVmas;
  return { value: vmas, from: `${input.baselineVmas.value} (${input.baselineVmas.from}) + ${threadPool}: ${threadPoolWhy}` };
}

function machineOf(input: PlanInput): PlanInputReport["machine"] {
  const m = input.model.machine;
  return { type: m.type.value, version: m.version === null ? null : `${m.version.major}.${m.version.minor}`, from: m.type.from, why: m.type.why };
}

/** The most coroutines a thread creates at once: every source it creates for, full. */
function mostOn(demand: Demand, thread: number): number {
  return demand.sources.filter((s) => s.creators.includes(thread)).reduce((sum, s) => sum + s.coroutines, 0);
}

function devicesOf(demand: Demand, input: PlanInput): PlanDeviceReport[] {
  const names = demand.threads.map((t) => t.name);
  const kindOf = new Map(input.model.devices.map((d) => [deviceLabel(d), d.kind]));
  return demand.sources.map((s) => ({
    device: s.device,
    kind: kindOf.get(s.device)!,
    creators: s.creators.map((c) => names[c]!),
    terminator: names[s.terminator]!,
    requests: s.requests,
    coroutinesPerRequest: s.coroutinesPerRequest,
    coroutines: s.coroutines,
    why: [...s.why],
  }));
}

/** The schedule in words: what each part does, why, and when it stopped. */
export function scheduleDescription(schedule: Pick<PlanOutcome["schedule"], "rounds" | "settled" | "hoardPasses">, demand: Demand): string[] {
  const { rounds, settled, hoardPasses } = schedule;
  return [
    `threads ${demand.threads.length}: ${demand.threads.map((t) => `T${t.index} ${t.name}`).join(", ")}`,
    demand.totalPoolIncrease > 0
      ? `inc ${demand.totalPoolIncrease}: the virtio-blk devices' pool increase, made at realize before any request`
      : "no pool increase: no virtio-blk device (or a QEMU before 7.0)",
    "each round: every thread in turn alone at its most (all its devices' requests in flight, then all completed), then every thread at its most at once",
    "a request's first coroutine is created by the thread that handles the guest's notification; it ends, and chained ones are made, in the thread its I/O completes in (a vCPU's requests complete in the main loop)",
    ...(hoardPasses > 0
      ? [`then ${hoardPasses} hoard pass(es), for the threads that create coroutines the main loop frees: each empties its pool one request at a time, the release pool is refilled, and its next request takes it whole (legacy keeps what a thread took), then every thread at its most at once`]
      : []),
    settled
      ? `${rounds} rounds: the last raised no policy's peak`
      : `${rounds} rounds, cut short by the schedule's size: a peak may still have been growing, so it is a lower bound`,
  ];
}

/** What the reader must know before the table. */
export function planNotes(report: PlanReport): string[] {
  const notes: string[] = [];
  if (report.interrupted) notes.push("interrupted: the answer is that of the schedule read so far");
  if (report.input.qemuVersion.value === null) notes.push(`QEMU version ${report.input.qemuVersion.from}`);
  if (!report.schedule.settled) notes.push(report.schedule.description.find((line) => line.includes("cut short"))!);
  for (const u of report.input.unplanned) notes.push(`not planned: ${u.what}: ${u.why}`);
  const room = baselineRoomNote(report, report.input.devices.length > 0);
  if (room !== null) notes.push(room);
  return notes;
}

/** Whether a policy aborts at the limit asked about (the command's exit 3). */
export function planAborts(report: PlanReport): boolean {
  return report.rows.some((r) => r.abort !== null);
}
