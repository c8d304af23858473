// Barrier on real worker threads. Needs `npx tsc -p tsconfig.json` first: the probes run
// the compiled dist/ files.
import { isMainThread } from "node:worker_threads";
import { afterEach, describe, expect, it } from "vitest";
import { BARRIER_INT32_WORDS, Barrier } from "../src/sync/barrier.js";
import { SyncError } from "../src/sync/errors.js";
import {
  ProbeClient,
  arrivalEvent,
  describeEvent,
  makeRegion,
  passEvent,
  readEvents,
  recordEvent,
  viewsOf,
  type EventLog,
  type ProbeTask,
  type Region,
} from "./workers/sync-probe.js";

const PROBE = new URL("../dist/test/workers/sync-probe.js", import.meta.url);

const WORKERS = 4;
const PHASES = 8;
// Bounded waits, all below vitest's 30 s test timeout. A whole run of PHASES must finish
// within RUN_MS, well under PHASES * PHASE_MS, so that a lost wake-up (each phase ending
// only when its waits time out) fails the test instead of passing slowly.
const REPLY_MS = 10_000;
const PHASE_MS = 5_000;
const RUN_MS = 10_000;
const MISSING_PARTY_MS = 300;

// Test layout. A non-zero base so that an offset bug in the barrier lands on a neighbour.
const BARRIER_AT = 3;
const LAST_COUNTS_AT = BARRIER_AT + BARRIER_INT32_WORDS + 2;
const LOG_CURSOR_AT = LAST_COUNTS_AT + PHASES;
const LOG_ENTRIES_AT = LOG_CURSOR_AT + 1;
const LOG_CAPACITY = 2 * (WORKERS + 1) * PHASES;
const I32_WORDS = LOG_ENTRIES_AT + LOG_CAPACITY;
const LOG: EventLog = { cursorAt: LOG_CURSOR_AT, entriesAt: LOG_ENTRIES_AT, capacity: LOG_CAPACITY };

let probes: ProbeClient[] = [];

afterEach(async () => {
  await Promise.all(probes.map((probe) => probe.terminate()));
  probes = [];
});

/** A fresh region with a barrier for `parties`, and the main thread's view of it. */
function setUp(parties: number): { region: Region; i32: Int32Array; barrier: Barrier } {
  const region = makeRegion(I32_WORDS, 0);
  const { i32 } = viewsOf(region);
  Barrier.initialize(i32, BARRIER_AT, parties);
  return { region, i32, barrier: new Barrier(i32, BARRIER_AT, parties) };
}

function spawnPhases(region: Region, parties: number, phases: number, timeoutMs: number): ProbeClient[] {
  const task: ProbeTask = {
    kind: "phases",
    region,
    barrier: { base: BARRIER_AT, parties },
    phases,
    timeoutMs,
    log: LOG,
    lastCountsAt: LAST_COUNTS_AT,
  };
  const spawned = Array.from({ length: WORKERS }, () => new ProbeClient(PROBE, task));
  probes.push(...spawned);
  return spawned;
}

/**
 * The barrier's promise, checked on the shared log: an arrival is logged before a party
 * arrives and a pass after it returns, so no pass of phase k may come before all
 * `parties` arrivals of phase k.
 */
function expectPhasesInOrder(events: number[], parties: number, phases: number): void {
  expect(events).toHaveLength(2 * parties * phases);
  const arrivals = new Array<number>(phases).fill(0);
  const passes = new Array<number>(phases).fill(0);
  events.forEach((event, position) => {
    const { phase, kind } = describeEvent(event);
    if (kind === "arrive") arrivals[phase]! += 1;
    else {
      expect(arrivals[phase], `pass of phase ${phase} at log position ${position}`).toBe(parties);
      passes[phase]! += 1;
    }
  });
  expect(arrivals).toEqual(new Array(phases).fill(parties));
  expect(passes).toEqual(new Array(phases).fill(parties));
}

function lastCounts(i32: Int32Array, phases: number): number[] {
  return Array.from({ length: phases }, (_, phase) => Atomics.load(i32, LAST_COUNTS_AT + phase));
}

async function rejectionCode(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    // SyncError on this thread; a probe's failure carries the code of its SyncError.
    const code = (error as { code?: unknown }).code;
    if (typeof code === "string") return code;
    throw error;
  }
  return undefined;
}

describe("Barrier", () => {
  it("lets no worker pass a phase before all 4 have arrived, phase after phase", async () => {
    const { region, i32, barrier } = setUp(WORKERS);
    const workers = spawnPhases(region, WORKERS, PHASES, PHASE_MS);
    await Promise.all(workers.map((probe) => probe.expect("done", RUN_MS)));

    expectPhasesInOrder(readEvents(i32, LOG), WORKERS, PHASES);
    expect(lastCounts(i32, PHASES)).toEqual(new Array(PHASES).fill(1));
    expect(barrier.waiting()).toBe(0);
  });

  it("lets the main thread take part with arriveAsync", async () => {
    const parties = WORKERS + 1;
    const { region, i32, barrier } = setUp(parties);
    const workers = spawnPhases(region, parties, PHASES, PHASE_MS);
    const deadline = performance.now() + RUN_MS;
    for (let phase = 0; phase < PHASES; phase++) {
      expect(performance.now(), `start of phase ${phase}`).toBeLessThan(deadline);
      recordEvent(i32, LOG, arrivalEvent(phase));
      if (await barrier.arriveAsync(PHASE_MS)) Atomics.add(i32, LAST_COUNTS_AT + phase, 1);
      recordEvent(i32, LOG, passEvent(phase));
    }
    await Promise.all(workers.map((probe) => probe.expect("done", REPLY_MS)));

    expectPhasesInOrder(readEvents(i32, LOG), parties, PHASES);
    expect(lastCounts(i32, PHASES)).toEqual(new Array(PHASES).fill(1));
  });

  it("times out with ERR_BARRIER_TIMEOUT when a party never arrives, and stays usable", async () => {
    const parties = WORKERS + 1;
    const { region, barrier } = setUp(parties);
    const started = performance.now();
    const workers = spawnPhases(region, parties, 1, MISSING_PARTY_MS);
    const failures = await Promise.all(workers.map((probe) => rejectionCode(probe.expect("done", REPLY_MS))));
    expect(failures).toEqual(new Array(WORKERS).fill("ERR_BARRIER_TIMEOUT"));
    expect(performance.now() - started).toBeGreaterThanOrEqual(MISSING_PARTY_MS);
    // Every timed-out party took its arrival back ...
    expect(barrier.waiting()).toBe(0);

    // ... so a later phase still needs all parties, and completes when they all come.
    const retry = spawnPhases(region, parties, 1, PHASE_MS);
    // The main thread arrives once every worker waits: its arrival is the last, and completes the phase.
    const deadline = performance.now() + REPLY_MS;
    while (barrier.waiting() < WORKERS) {
      if (performance.now() > deadline) throw new Error(`only ${barrier.waiting()} of ${WORKERS} workers arrived within ${REPLY_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(await barrier.arriveAsync(PHASE_MS)).toBe(true);
    await Promise.all(retry.map((probe) => probe.expect("done", REPLY_MS)));
    expect(barrier.waiting()).toBe(0);
  });

  it("arriveAsync on the main thread times out too, and withdraws its arrival", async () => {
    const { barrier } = setUp(2);
    const started = performance.now();
    expect(await rejectionCode(barrier.arriveAsync(MISSING_PARTY_MS))).toBe("ERR_BARRIER_TIMEOUT");
    expect(performance.now() - started).toBeGreaterThanOrEqual(MISSING_PARTY_MS - 10);
    expect(barrier.waiting()).toBe(0);
  });

  it("arriveAndWait refuses to block the main thread, without arriving", () => {
    expect(isMainThread).toBe(true);
    const { barrier } = setUp(2);
    let code: string | undefined;
    try {
      barrier.arriveAndWait(PHASE_MS);
    } catch (error) {
      if (!(error instanceof SyncError)) throw error;
      code = error.code;
    }
    expect(code).toBe("ERR_MAIN_THREAD_BLOCK");
    expect(barrier.waiting()).toBe(0);
  });

  it("keeps working when the generation wraps around its 16 bits", async () => {
    const { barrier } = setUp(2);
    // Two concurrent arrivals from the main thread complete a phase; 0x10000 + 2 phases
    // cross both the sign bit of the word and the wrap of the generation.
    for (let phase = 0; phase < 0x10000 + 2; phase++) {
      const first = barrier.arriveAsync(PHASE_MS);
      const second = barrier.arriveAsync(PHASE_MS);
      const lasts = await Promise.all([first, second]);
      if (lasts[0] !== false || lasts[1] !== true) expect.fail(`phase ${phase}: last flags ${lasts}`);
    }
    expect(barrier.waiting()).toBe(0);
  });

  it("rejects a party count that differs from the one it was initialized with", () => {
    const { i32 } = setUp(WORKERS);
    expect(() => new Barrier(i32, BARRIER_AT, WORKERS + 1)).toThrow(
      expect.objectContaining({ code: "ERR_SYNC_INVALID_ARGUMENT" }),
    );
    expect(() => Barrier.initialize(i32, BARRIER_AT, 0)).toThrow(
      expect.objectContaining({ code: "ERR_SYNC_INVALID_ARGUMENT" }),
    );
    expect(() => Barrier.initialize(i32, i32.length - 1, WORKERS)).toThrow(
      expect.objectContaining({ code: "ERR_SYNC_INVALID_ARGUMENT" }),
    );
  });
});
