import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { replayTrace } from "../src/replay/replay.js";
import { parseTrace } from "../src/replay/trace.js";
import { isPolicyName } from "../src/pools/index.js";

// Traces with the exact results of QEMU's own pool code (copied from the
// project's shared oracle samples).
const ORACLE = join(import.meta.dirname, "fixtures", "oracle");

const cases = readFileSync(join(ORACLE, "cases.tsv"), "utf8")
  .trim()
  .split("\n")
  .slice(1)
  .map((row) => {
    const [trace, policy, maxMapCount, baseline, expected] = row.split("\t") as [string, string, string, string, string];
    if (!isPolicyName(policy)) throw new Error("bad policy in cases.tsv: " + policy);
    return { trace, policy, maxMapCount: Number(maxMapCount), baseline: Number(baseline), expected };
  });

describe("replay matches QEMU's own pool code", () => {
  it("has all twenty sample cases", () => {
    expect(cases).toHaveLength(20);
  });

  it.each(cases)("$trace $policy at max_map_count $maxMapCount", ({ trace, policy, maxMapCount, baseline, expected }) => {
    const parsed = parseTrace(readFileSync(join(ORACLE, trace), "utf8"), trace);
    const { result } = replayTrace(parsed, { policy, maxMapCount, baselineVmas: baseline });
    // Byte for byte: the key order is part of the format.
    expect(JSON.stringify(result)).toBe(readFileSync(join(ORACLE, expected), "utf8").trim());
  });
});
