/**
 * The bounded JSON writer behind `sampleResults` (issue 17, item 7): written
 * whole it is JSON.stringify's text, cut it is that text's beginning, and a
 * kept sample result takes at most 1024 bytes of JSON whatever its content.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { jsonPrefix } from "../src/scenarios/custom/json-prefix.js";
import { MAX_SAMPLE_RESULT_BYTES, sampleResult } from "../src/scenarios/custom/sample-result.js";

const ANY = fc.anything({
  withBoxedValues: true,
  withMap: true,
  withSet: true,
  withTypedArray: true,
  withSparseArray: true,
  withNullPrototype: true,
  withObjectString: true,
  withDate: true,
});

/** JSON.stringify's text, or the error it throws. */
function stringified(value: unknown): string | undefined | { threw: true } {
  try {
    return JSON.stringify(value);
  } catch {
    return { threw: true };
  }
}

const jsonBytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v));

describe("jsonPrefix", () => {
  it("whole, it is JSON.stringify's text; cut at n, that text's first n characters; it throws where JSON.stringify does", () => {
    fc.assert(
      fc.property(ANY, fc.nat(300), (value, n) => {
        const json = stringified(value);
        if (typeof json === "object") {
          expect(() => jsonPrefix(value, 1e9)).toThrow(TypeError);
          return;
        }
        if (json === undefined) {
          expect(jsonPrefix(value, n)).toBeUndefined();
          return;
        }
        expect(jsonPrefix(value, 1e9)).toEqual({ text: json, cut: false });
        expect(jsonPrefix(value, n)).toEqual({ text: json.slice(0, n), cut: json.length > n });
      }),
    );
  });

  it("a cut string ends where the limit falls, even inside a surrogate pair or an escape", () => {
    for (const s of ["😀".repeat(20), '"\\\n'.repeat(20), "é".repeat(20)]) {
      const json = JSON.stringify(s);
      for (let n = 0; n < 30; n++) expect(jsonPrefix(s, n)).toEqual({ text: json.slice(0, n), cut: json.length > n });
    }
  });

  it("a cycle and a chain deeper than the stack are cut, not refused", () => {
    const cycle: Record<string, unknown> = { a: [1, "two"] };
    cycle.self = cycle;
    expect(jsonPrefix(cycle, 40)).toEqual({ text: '{"a":[1,"two"],"self":'.repeat(2).slice(0, 40), cut: true });
    let deep: unknown = null;
    for (let i = 0; i < 1_000_000; i++) deep = [deep];
    expect(jsonPrefix(deep, MAX_SAMPLE_RESULT_BYTES)).toEqual({ text: "[".repeat(MAX_SAMPLE_RESULT_BYTES), cut: true });
  });
});

describe("sampleResult", () => {
  it("keeps a value whose JSON fits 1024 bytes as it is, exactly up to the limit", () => {
    const fits = "a".repeat(MAX_SAMPLE_RESULT_BYTES - 2);
    expect(sampleResult(fits)).toEqual({ kept: fits, cut: false });
    expect(sampleResult({ n: 1, d: new Date(0), f: () => 1, u: undefined })).toEqual({ kept: { n: 1, d: "1970-01-01T00:00:00.000Z" }, cut: false });
    expect(sampleResult(undefined)).toEqual({ kept: null, cut: false });
    expect(sampleResult(10n)).toEqual({ kept: "(a bigint: 10)", cut: false });
    expect(sampleResult(() => 1)).toEqual({ kept: "(a function)", cut: false });
  });

  it.each([
    ["one byte over", "a".repeat(MAX_SAMPLE_RESULT_BYTES - 1)],
    ["two-byte characters", "é".repeat(600)],
    ["surrogate pairs", "😀".repeat(300)],
    ["quotes and backslashes (escaped twice)", '"\\'.repeat(600)],
    ["control characters", "\u0001".repeat(300)],
    ["a cycle", (() => {
      const o: Record<string, unknown> = { name: "é😀" };
      o.self = o;
      return o;
    })()],
  ])("cuts %s to at most 1024 bytes of JSON, the beginning of its JSON text", (_what, value) => {
    const { kept, cut } = sampleResult(value);
    expect(cut).toBe(true);
    expect(typeof kept).toBe("string");
    expect(jsonBytes(kept)).toBeLessThanOrEqual(MAX_SAMPLE_RESULT_BYTES);
    // As long as fits: one more character of the text would not.
    expect(jsonBytes(kept)).toBeGreaterThan(MAX_SAMPLE_RESULT_BYTES - 12);
    expect((kept as string).isWellFormed()).toBe(true);
    expect(jsonPrefix(value, MAX_SAMPLE_RESULT_BYTES)!.text.startsWith(kept as string)).toBe(true);
  });
});
