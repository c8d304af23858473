/**
 * Worker entry for the `src/sync/` tests, and both ends of its protocol.
 *
 * A test creates a shared region, spawns probes with a `ProbeTask` as workerData and
 * talks to them with `ProbeClient`. Each probe rebuilds the same views over the region
 * and runs the task on a real worker thread, so Atomics.wait really blocks a thread and
 * the main thread really is the main thread.
 *
 * Every wait on both sides is bounded: a broken primitive fails a test, it never hangs it.
 */

import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { Barrier } from "../../src/sync/barrier.js";
import { SyncError } from "../../src/sync/errors.js";
import { FutexMutex } from "../../src/sync/futex-mutex.js";

/** Where the Int32 and BigInt64 views sit in the shared buffer (they must not overlap). */
export interface Region {
  sab: SharedArrayBuffer;
  i32ByteOffset: number;
  i32Length: number;
  i64ByteOffset: number;
  i64Length: number;
}

export interface RegionViews {
  i32: Int32Array;
  i64: BigInt64Array;
}

export interface MutexPlacement {
  i32Base: number;
  i64Base: number;
}

export interface BarrierPlacement {
  base: number;
  parties: number;
}

/** An append-only log of events in shared memory: `cursorAt` counts entries, written from `entriesAt`. */
export interface EventLog {
  cursorAt: number;
  entriesAt: number;
  capacity: number;
}

export type ProbeTask =
  /** Wait for the start gate, then `iterations` times: lock, non-atomic increment of `counterAt`, unlock. */
  | {
      kind: "count";
      region: Region;
      mutex: MutexPlacement;
      ownerId: number;
      counterAt: number;
      iterations: number;
      startGateAt: number;
    }
  /** Lock, reply "locked", wait for a "release" message, unlock, reply "released". */
  | { kind: "hold"; region: Region; mutex: MutexPlacement; ownerId: number }
  /** One tryLock or timed lock; reply what happened, and unlock if it was acquired. */
  | {
      kind: "attempt";
      region: Region;
      mutex: MutexPlacement;
      ownerId: number;
      mode: "tryLock" | "lock";
      timeoutMs: number;
    }
  /** `phases` barrier phases, logging an arrival and a pass event around each arriveAndWait. */
  | {
      kind: "phases";
      region: Region;
      barrier: BarrierPlacement;
      phases: number;
      timeoutMs: number;
      log: EventLog;
      lastCountsAt: number;
    };

export interface AttemptOutcome {
  acquired: boolean;
  ownerWhileHeld: number | null;
  errorCode: string | null;
  elapsedMs: number;
}

export type ProbeReply =
  | { type: "ready" }
  | { type: "locked" }
  | { type: "released" }
  | { type: "attempted"; outcome: AttemptOutcome }
  | { type: "done" }
  | { type: "failed"; code: string; message: string };

type ProbeCommand = { type: "release" };

/** Wrapped so a thread started by anything else (e.g. a test runner's pool) never runs a task. */
interface ProbeWorkerData {
  syncProbe: ProbeTask;
}

/** How long a probe waits for the test to open the start gate or send "release". */
const PROBE_PATIENCE_MS = 15_000;

/** A fresh shared region: BigInt64 words first, then Int32 words, no overlap. */
export function makeRegion(i32Length: number, i64Length: number): Region {
  const i64Bytes = i64Length * BigInt64Array.BYTES_PER_ELEMENT;
  const sab = new SharedArrayBuffer(i64Bytes + i32Length * Int32Array.BYTES_PER_ELEMENT);
  return { sab, i64ByteOffset: 0, i64Length, i32ByteOffset: i64Bytes, i32Length };
}

export function viewsOf(region: Region): RegionViews {
  return {
    i32: new Int32Array(region.sab, region.i32ByteOffset, region.i32Length),
    i64: new BigInt64Array(region.sab, region.i64ByteOffset, region.i64Length),
  };
}

export function mutexIn(views: RegionViews, at: MutexPlacement): FutexMutex {
  return new FutexMutex(views.i32, at.i32Base, views.i64, at.i64Base);
}

// Event log entries: 0 marks a slot not yet written, so events start at 1.
export function arrivalEvent(phase: number): number {
  return 2 * phase + 1;
}

export function passEvent(phase: number): number {
  return 2 * phase + 2;
}

export function describeEvent(event: number): { phase: number; kind: "arrive" | "pass" } {
  return { phase: Math.floor((event - 1) / 2), kind: event % 2 === 1 ? "arrive" : "pass" };
}

export function recordEvent(i32: Int32Array, log: EventLog, event: number): void {
  const slot = Atomics.add(i32, log.cursorAt, 1);
  if (slot >= log.capacity) throw new Error(`event log full (${log.capacity} entries)`);
  Atomics.store(i32, log.entriesAt + slot, event);
}

export function readEvents(i32: Int32Array, log: EventLog): number[] {
  const count = Math.min(Atomics.load(i32, log.cursorAt), log.capacity);
  const events: number[] = [];
  for (let slot = 0; slot < count; slot++) events.push(Atomics.load(i32, log.entriesAt + slot));
  return events;
}

/** The test's handle on one probe thread. */
export class ProbeClient {
  private readonly worker: Worker;
  private readonly inbox: ProbeReply[] = [];
  private wake: (() => void) | null = null;
  private exitError: Error | null = null;

  constructor(entry: URL, task: ProbeTask) {
    const data: ProbeWorkerData = { syncProbe: task };
    this.worker = new Worker(entry, { workerData: data });
    this.worker.on("message", (reply: ProbeReply) => this.deliver(reply));
    this.worker.on("error", (error) => this.fail(error));
    this.worker.on("exit", (code) => this.fail(new Error(`probe exited with code ${code}`)));
  }

  get threadId(): number {
    return this.worker.threadId;
  }

  send(command: ProbeCommand): void {
    this.worker.postMessage(command);
  }

  /** The next reply, which must be of `type`; a "failed" reply rejects with the probe's error code. */
  async expect<T extends ProbeReply["type"]>(type: T, timeoutMs: number): Promise<Extract<ProbeReply, { type: T }>> {
    const reply = await this.next(timeoutMs, type);
    if (reply.type === "failed") throw Object.assign(new Error(`probe failed: ${reply.message}`), { code: reply.code });
    if (reply.type !== type) throw new Error(`expected probe reply "${type}", got "${reply.type}"`);
    return reply as Extract<ProbeReply, { type: T }>;
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }

  private async next(timeoutMs: number, awaited: string): Promise<ProbeReply> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const reply = this.inbox.shift();
      if (reply !== undefined) return reply;
      if (this.exitError !== null) throw this.exitError;
      const remaining = deadline - performance.now();
      if (remaining <= 0) throw new Error(`no "${awaited}" reply from probe within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  private deliver(reply: ProbeReply): void {
    this.inbox.push(reply);
    this.wake?.();
  }

  private fail(error: Error): void {
    this.exitError ??= error;
    this.wake?.();
  }
}

// ---------------------------------------------------------------------------------------
// The worker side.

function reply(message: ProbeReply): void {
  parentPort!.postMessage(message);
}

function waitForStartGate(i32: Int32Array, gateAt: number): void {
  const deadline = performance.now() + PROBE_PATIENCE_MS;
  while (Atomics.load(i32, gateAt) === 0) {
    const remaining = deadline - performance.now();
    if (remaining <= 0) throw new Error("start gate never opened");
    Atomics.wait(i32, gateAt, 0, remaining);
  }
}

function waitForCommand(type: ProbeCommand["type"]): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${type}" command within ${PROBE_PATIENCE_MS} ms`)), PROBE_PATIENCE_MS);
    parentPort!.once("message", (command: ProbeCommand) => {
      clearTimeout(timer);
      if (command.type === type) resolve();
      else reject(new Error(`expected command "${type}", got "${command.type}"`));
    });
  });
}

function runCount(task: Extract<ProbeTask, { kind: "count" }>): void {
  const views = viewsOf(task.region);
  const mutex = mutexIn(views, task.mutex);
  reply({ type: "ready" });
  waitForStartGate(views.i32, task.startGateAt);
  for (let i = 0; i < task.iterations; i++) {
    mutex.lock(task.ownerId, PROBE_PATIENCE_MS);
    // Deliberately not atomic: only the mutex keeps concurrent increments from being lost.
    views.i32[task.counterAt] = views.i32[task.counterAt] + 1;
    mutex.unlock();
  }
}

async function runHold(task: Extract<ProbeTask, { kind: "hold" }>): Promise<void> {
  const mutex = mutexIn(viewsOf(task.region), task.mutex);
  mutex.lock(task.ownerId, PROBE_PATIENCE_MS);
  reply({ type: "locked" });
  await waitForCommand("release");
  mutex.unlock();
  reply({ type: "released" });
}

function runAttempt(task: Extract<ProbeTask, { kind: "attempt" }>): void {
  const mutex = mutexIn(viewsOf(task.region), task.mutex);
  const started = performance.now();
  let acquired = false;
  let errorCode: string | null = null;
  try {
    if (task.mode === "tryLock") acquired = mutex.tryLock(task.ownerId);
    else {
      mutex.lock(task.ownerId, task.timeoutMs);
      acquired = true;
    }
  } catch (error) {
    if (!(error instanceof SyncError)) throw error;
    errorCode = error.code;
  }
  const elapsedMs = performance.now() - started;
  const ownerWhileHeld = acquired ? mutex.owner() : null;
  if (acquired) mutex.unlock();
  reply({ type: "attempted", outcome: { acquired, ownerWhileHeld, errorCode, elapsedMs } });
}

/** Spin for up to `maxMicros` so parties reach the barrier in a different order each phase. */
function jitter(maxMicros: number): void {
  const until = performance.now() + (Math.random() * maxMicros) / 1000;
  while (performance.now() < until);
}

function runPhases(task: Extract<ProbeTask, { kind: "phases" }>): void {
  const views = viewsOf(task.region);
  const barrier = new Barrier(views.i32, task.barrier.base, task.barrier.parties);
  for (let phase = 0; phase < task.phases; phase++) {
    jitter(300);
    recordEvent(views.i32, task.log, arrivalEvent(phase));
    const last = barrier.arriveAndWait(task.timeoutMs);
    if (last) Atomics.add(views.i32, task.lastCountsAt + phase, 1);
    recordEvent(views.i32, task.log, passEvent(phase));
  }
}

async function runProbe(task: ProbeTask): Promise<void> {
  try {
    switch (task.kind) {
      case "count":
        runCount(task);
        break;
      case "hold":
        await runHold(task);
        break;
      case "attempt":
        runAttempt(task);
        break;
      case "phases":
        runPhases(task);
        break;
    }
    reply({ type: "done" });
  } catch (error) {
    const code = error instanceof SyncError ? error.code : "ERR_PROBE";
    reply({ type: "failed", code, message: error instanceof Error ? error.message : String(error) });
  }
}

// Tests import this module for its helpers; only a thread spawned by ProbeClient runs a task.
const probeTask = isMainThread ? undefined : (workerData as Partial<ProbeWorkerData> | null)?.syncProbe;
if (probeTask !== undefined && parentPort !== null) void runProbe(probeTask);
