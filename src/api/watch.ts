/**
 * watch() and snapshot(): live QEMU processes on this host, read from /proc
 * without running or tracing them — the data `coropool watch` shows.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { PolicyName } from "../pools/index.js";
import { PID } from "../options/catalogue.js";
import { REFUSED } from "../options/rule.js";
import { apiDoor } from "../options/door.js";
import { resolveSnapshotOptions, resolveWatchOptions } from "../options/doors.js";
import { badArgument } from "../options/resolve.js";
import { snapshot as snapshotNow, type ProcessSnapshot } from "../host/snapshot.js";
import { Watcher, type WatchSample } from "../host/watcher.js";
import { PlanCeilings } from "./watch-ceilings.js";

export interface WatchOptions {
  /** The processes to watch, whatever they run; default: every QEMU system emulator, found anew each sample. */
  pids?: number[];
  /** Milliseconds between samples (default 2000). */
  intervalMs?: number;
  /** The build's coroutine stack size, bytes or "1m" (default 1 MiB, as QEMU). */
  stackSize?: number | string;
  /** The pool policy by pid, for vendor builds that backport a pool: "PID=P,…", an object or a Map. */
  policyOverrides?: string | Record<number, PolicyName> | ReadonlyMap<number, PolicyName>;
  /** How far back the trend looks (default 5 minutes). */
  trendWindowMs?: number;
  /** Ends the watch: the iterator returns. */
  signal?: AbortSignal;
}

export interface SnapshotApiOptions {
  stackSize?: number | string;
  /** The policy of a vendor build, winning over the one its version gives. */
  policy?: PolicyName;
}

/**
 * Samples of every watched process, one every `intervalMs`, the first at
 * once, until `signal` fires. A process that exits or cannot be read is in
 * the sample, marked `unreadable`; the watch goes on. Each QEMU's ceiling
 * (its plan's worst case under its policy) is planned once, after the sample
 * that first saw it: until then it is `unplanned: "planning"`.
 */
export async function* watch(options?: WatchOptions): AsyncGenerator<WatchSample, void, undefined> {
  const request = resolveWatchOptions(apiDoor("watch"), options);
  const watcher = new Watcher({ ...request, ceilings: new PlanCeilings() });
  const signal = request.signal;
  while (signal?.aborted !== true) {
    yield watcher.sample();
    try {
      await sleep(request.intervalMs, undefined, signal === undefined ? {} : { signal });
    } catch (error) {
      if ((error as Error).name === "AbortError") return;
      throw error;
    }
  }
}

/** One process now. A pid that is not a positive integer is an InputError; a process gone or unreadable is a snapshot that says so. */
export async function snapshot(pid: number, options?: SnapshotApiOptions): Promise<ProcessSnapshot> {
  const door = apiDoor("snapshot");
  if (PID.check(pid) === REFUSED) throw badArgument(door, "pid", pid, PID.allowed);
  const request = resolveSnapshotOptions(door, options);
  const policyOverrides = request.policy === undefined ? undefined : new Map([[pid, request.policy]]);
  return snapshotNow(pid, { stackSize: request.stackSize, policyOverrides });
}
