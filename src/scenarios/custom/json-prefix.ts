/**
 * The beginning of a value's JSON text, written by JSON.stringify's rules
 * (toJSON, boxed primitives, omitted undefined/function/symbol properties,
 * null for non-finite numbers and holes) but only as far as a limit: a
 * 200 MB string costs the few characters kept, and a cycle or a deep chain,
 * which JSON.stringify refuses or overflows on, is simply cut there. Each
 * level of nesting writes at least one character, so the walk is never
 * deeper than the limit.
 */

export interface JsonPrefix {
  /** The JSON text, whole or its first `maxChars` characters. */
  text: string;
  /** The text goes on past `maxChars`. */
  cut: boolean;
}

/** Thrown through the walk once the text is full: nothing past it is ever written. */
const FULL = Symbol("full");

class PrefixWriter {
  text = "";
  constructor(private readonly maxChars: number) {}

  write(s: string): void {
    const room = this.maxChars - this.text.length;
    if (s.length > room) {
      this.text += s.slice(0, room);
      throw FULL;
    }
    this.text += s;
  }

  /** A string quoted as JSON, escaping only the part that can still fit. */
  quoted(s: string): void {
    const room = this.maxChars - this.text.length;
    // room + 1 characters make at least room + 3 of JSON, so the cut falls inside them.
    this.write(JSON.stringify(s.length > room ? s.slice(0, room + 1) : s));
  }
}

/**
 * `value`'s JSON text up to `maxChars`, or undefined where JSON.stringify
 * gives undefined (a function, a symbol, undefined). Throws what
 * JSON.stringify would for what it can reach within the limit (a BigInt),
 * and whatever a getter, toJSON or Proxy trap throws.
 */
export function jsonPrefix(value: unknown, maxChars: number): JsonPrefix | undefined {
  const top = jsonView(value, "");
  if (omitted(top)) return undefined;
  const w = new PrefixWriter(maxChars);
  try {
    writeJson(w, top);
  } catch (err) {
    if (err === FULL) return { text: w.text, cut: true };
    throw err;
  }
  return { text: w.text, cut: false };
}

/** What JSON.stringify writes in a value's place: its toJSON() result, a boxed primitive unboxed. */
function jsonView(value: unknown, key: string): unknown {
  if ((typeof value === "object" && value !== null) || typeof value === "bigint") {
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === "function") value = toJSON.call(value, key) as unknown;
  }
  if (value instanceof Number) return Number(value);
  if (value instanceof String) return String(value);
  if (value instanceof Boolean || value instanceof BigInt) return value.valueOf();
  return value;
}

/** Values JSON.stringify leaves out of an object (and writes as null in an array). */
function omitted(value: unknown): boolean {
  return value === undefined || typeof value === "function" || typeof value === "symbol";
}

function writeJson(w: PrefixWriter, value: unknown): void {
  if (value === null) return w.write("null");
  switch (typeof value) {
    case "boolean":
      return w.write(String(value));
    case "number":
      return w.write(Number.isFinite(value) ? String(value) : "null");
    case "string":
      return w.quoted(value);
    case "bigint":
      throw new TypeError("Do not know how to serialize a BigInt");
    default:
      return Array.isArray(value) ? writeArray(w, value) : writeObject(w, value as object);
  }
}

function writeArray(w: PrefixWriter, array: unknown[]): void {
  w.write("[");
  for (let i = 0; i < array.length; i++) {
    if (i > 0) w.write(",");
    const item = jsonView(array[i], String(i));
    if (omitted(item)) w.write("null");
    else writeJson(w, item);
  }
  w.write("]");
}

function writeObject(w: PrefixWriter, object: object): void {
  w.write("{");
  let first = true;
  for (const key of ownKeys(object)) {
    const item = jsonView((object as Record<string, unknown>)[key], key);
    if (omitted(item)) continue;
    if (!first) w.write(",");
    first = false;
    w.quoted(key);
    w.write(":");
    writeJson(w, item);
  }
  w.write("}");
}

/**
 * The keys JSON.stringify writes: the own enumerable string keys; a typed
 * array's indexes one by one, so a 50 MB buffer never becomes a list of 50
 * million keys (the rare extra property of a typed array is left out).
 */
function* ownKeys(object: object): Generator<string> {
  if (ArrayBuffer.isView(object) && !(object instanceof DataView)) {
    const length = (object as unknown as ArrayLike<unknown>).length;
    for (let i = 0; i < length; i++) yield String(i);
    return;
  }
  yield* Object.keys(object);
}
