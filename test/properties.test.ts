import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { POLICY_NAMES } from "../src/pools/index.js";
import { replayTrace } from "../src/replay/replay.js";
import { parseTrace } from "../src/replay/trace.js";
import { checkRegion } from "../src/pools/invariants.js";

/** A step of a random trace; names are assigned when the text is built, so every trace is valid. */
type Step =
  | { op: "create"; t: number; n: number }
  | { op: "terminate"; t: number; n: number; pick: number }
  | { op: "exit"; t: number }
  | { op: "inc" | "dec"; k: number };

const THREADS = 3;
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant("create" as const), t: fc.nat(THREADS - 1), n: fc.integer({ min: 1, max: 150 }) }) },
  { weight: 6, arbitrary: fc.record({ op: fc.constant("terminate" as const), t: fc.nat(THREADS - 1), n: fc.integer({ min: 1, max: 150 }), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("exit" as const), t: fc.nat(THREADS - 1) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constantFrom("inc" as const, "dec" as const), k: fc.oneof(fc.integer({ min: 0, max: 512 }), fc.constant(2 ** 31)) }) },
);

/** Turns steps into trace text; terminates pick live names (any thread: cross-thread terminates too). */
function traceText(steps: Step[]): string {
  const lines = [`threads ${THREADS}`];
  const live: string[] = [];
  let next = 0;
  for (const s of steps) {
    if (s.op === "create") {
      for (let i = 0; i < s.n; i++) {
        const name = `c${next++}`;
        live.push(name);
        lines.push(`create T${s.t} ${name}`);
      }
    } else if (s.op === "terminate") {
      for (let i = 0; i < s.n && live.length > 0; i++) {
        const [name] = live.splice((s.pick + i * 7) % live.length, 1);
        lines.push(`terminate T${s.t} ${name}`);
      }
    } else if (s.op === "exit") {
      lines.push(`exit T${s.t}`);
    } else {
      lines.push(`${s.op} ${s.k}`);
    }
  }
  return lines.join("\n");
}

const limits = fc.record({ maxMapCount: fc.integer({ min: 1000, max: 9000 }), baselineVmas: fc.integer({ min: 0, max: 1200 }) });

describe("invariants hold on random traces, under every policy", () => {
  for (const policy of POLICY_NAMES) {
    it(`${policy}: created - freed = live + pooled (+ leaked); VMAs = baseline + 2 x stacks; every stack in one place`, () => {
      fc.assert(
        fc.property(fc.array(step, { maxLength: 40 }), limits, (steps, { maxMapCount, baselineVmas }) => {
          const outcome = replayTrace(parseTrace(traceText(steps)), { policy, maxMapCount, baselineVmas });
          const { result, leakedStacks } = outcome;
          const pooled = result.pooled.global + result.pooled.threads.reduce((a, b) => a + b, 0);
          const existing = result.stacksCreated - result.stacksFreed;
          expect(existing).toBe(result.live + pooled + leakedStacks);
          const guardFailed = result.failure?.error === "failed to set up stack guard page" ? 1 : 0;
          expect(result.vmas.final).toBe(result.vmas.baseline + 2 * existing + guardFailed);
          expect(result.vmas.final).toBeLessThanOrEqual(Math.max(result.vmas.limit, result.vmas.baseline));
          expect(result.vmas.peak).toBeGreaterThanOrEqual(result.vmas.final);
          expect(checkRegion(outcome.region, result.live).violations).toEqual([]);
          if (policy === "batched" || policy === "elastic") for (const n of result.pooled.threads) expect(n).toBeLessThanOrEqual(256);
          if (policy !== "legacy") expect(leakedStacks).toBe(0);
          if (policy === "none") {
            expect(pooled).toBe(0);
            expect(existing).toBe(result.live);
          }
        }),
        { numRuns: 150 },
      );
    });
  }

  it("a replay is deterministic: the same trace gives the same result", () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 30 }), fc.constantFrom(...POLICY_NAMES), (steps, policy) => {
        const trace = parseTrace(traceText(steps));
        const a = replayTrace(trace, { policy, maxMapCount: 4000, baselineVmas: 500 }).result;
        const b = replayTrace(trace, { policy, maxMapCount: 4000, baselineVmas: 500 }).result;
        expect(JSON.stringify(a)).toBe(JSON.stringify(b));
      }),
      { numRuns: 50 },
    );
  });
});

describe("elastic against batched, the same random traces replayed under both", () => {
  // Limits from well below to well above what the traces need, so that some
  // runs abort, some are capped, and some have the whole pool; traces long
  // enough (up to ~9,000 events) for many decay periods to pass.
  const wide = fc.record({ maxMapCount: fc.integer({ min: 1000, max: 14000 }), baselineVmas: fc.integer({ min: 0, max: 1200 }) });

  it("never aborts where batched completes, never maps more at a peak, and keeps its books exact", () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), wide, fc.boolean(), (steps, { maxMapCount, baselineVmas }, uncapped) => {
        const trace = parseTrace(traceText(steps));
        const batched = replayTrace(trace, { policy: "batched", maxMapCount, baselineVmas, uncapped });
        const elastic = replayTrace(trace, { policy: "elastic", maxMapCount, baselineVmas, uncapped });
        expect(checkRegion(elastic.region, elastic.result.live).violations).toEqual([]);
        if (batched.result.failure === null) {
          expect(elastic.result.failure).toBeNull();
          expect(elastic.result.vmas.peak).toBeLessThanOrEqual(batched.result.vmas.peak);
        }
        // Where both complete they ran the same coroutines.
        if (elastic.result.failure === null && batched.result.failure === null) expect(elastic.result.live).toBe(batched.result.live);
        for (const n of elastic.result.pooled.threads) expect(n).toBeLessThanOrEqual(256);
      }),
      { numRuns: 400 },
    );
  });
});
