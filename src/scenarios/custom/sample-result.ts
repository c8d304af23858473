/**
 * One value a custom workload's coroutine returned, as a run's result keeps
 * it (`sampleResults`): bounded, so a coroutine that returns a 200 MB string
 * or an endless cycle costs the document 1 KiB, and cut on the worker, so
 * the big value never crosses threads whole.
 */
import { describeThrown } from "../../message-text.js";
import { jsonPrefix, type JsonPrefix } from "./json-prefix.js";

/** The most JSON (UTF-8 bytes) one kept sample result takes in a document. */
export const MAX_SAMPLE_RESULT_BYTES = 1024;

/**
 * A returned value as a document holds it: data as it is if its JSON fits
 * MAX_SAMPLE_RESULT_BYTES, else the beginning of its JSON text (cut: true);
 * a value JSON cannot hold (a function, a BigInt) described by its type, so a
 * workload's return value never kills its thread.
 */
export function sampleResult(value: unknown): { kept: unknown; cut: boolean } {
  if (value === undefined) return { kept: null, cut: false };
  let json: JsonPrefix | undefined;
  try {
    json = jsonPrefix(value, MAX_SAMPLE_RESULT_BYTES);
  } catch {
    json = undefined; // a BigInt, or a getter or toJSON that threw: described below
  }
  if (json === undefined) return { kept: `(${describeThrown(value)})`, cut: false };
  if (!json.cut && Buffer.byteLength(json.text) <= MAX_SAMPLE_RESULT_BYTES) return { kept: JSON.parse(json.text) as unknown, cut: false };
  return { kept: fittedJsonString(json.text, MAX_SAMPLE_RESULT_BYTES), cut: true };
}

/**
 * The longest beginning of `text` whose own JSON (quoted, escaped, UTF-8)
 * takes at most `maxBytes`, never ending in half a surrogate pair.
 */
function fittedJsonString(text: string, maxBytes: number): string {
  const jsonBytes = (n: number) => Buffer.byteLength(JSON.stringify(wholeCodePoints(text.slice(0, n))));
  // Every character takes at least a byte, so no more than maxBytes of them fit.
  let fits = 0;
  let tooLong = Math.min(text.length, maxBytes) + 1;
  while (tooLong - fits > 1) {
    const mid = (fits + tooLong) >>> 1;
    if (jsonBytes(mid) <= maxBytes) fits = mid;
    else tooLong = mid;
  }
  return wholeCodePoints(text.slice(0, fits));
}

/** `s` without a last high surrogate whose low half was cut off. */
function wholeCodePoints(s: string): string {
  const last = s.charCodeAt(s.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? s.slice(0, -1) : s;
}
