/**
 * User text inside an error message. Every input error is one line on stderr,
 * so nothing a user typed may reach it raw: a newline would split the line
 * and an escape sequence would act on the terminal. Long text is cut, so a
 * message stays readable.
 */

/**
 * The most of a user's value (a flag's argument, a field's value, a word of a
 * log) that a message quotes. An error is one line, and the words around the
 * value need room too: the program's name, the file or flag before it and
 * "; allowed: …" after it. 60 characters leave those 60 more of a 120-column
 * terminal and still show enough of a path or a word to tell which it was.
 */
export const MAX_SHOWN_CHARS = 60;

/** C0 and C1 controls, DEL and the Unicode line separators. */
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const NAMED_ESCAPES: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** `text` with every control character written as an escape (\n, \r, \t, else \uXXXX). */
export function escapeControls(text: string): string {
  return text.replace(CONTROL_CHARS, (c) => NAMED_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** `text` cut to at most `maxChars`, the cut marked with an ellipsis. */
export function shortened(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : `${text.slice(0, maxChars - 1)}…`;
}

/**
 * What user code threw, as one line: an Error's message, a thrown string as
 * it is, and any other value by its type ("a number: 7", "null", "an object:
 * {"code":1}", "a function"), even a value that cannot become a string (an
 * object without a prototype); escaped and cut to `maxChars`.
 */
export function describeThrown(err: unknown, maxChars = 200): string {
  return shownText(thrownText(err).split("\n")[0]!, maxChars);
}

function thrownText(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === "string") return err;
  if (err === null || err === undefined) return String(err);
  if (typeof err === "function") return "a function";
  if (typeof err !== "object") return `${articled(typeof err)}: ${String(err)}`;
  // An Error from another realm (a worker's structured clone) still has its message.
  const message = errorLikeMessage(err);
  if (message !== null) return message;
  try {
    const text = String(err);
    if (text !== "[object Object]") return `an object: ${text}`;
    const json = JSON.stringify(err);
    return json === undefined ? "an object" : `an object: ${json}`;
  } catch {
    return "a value that cannot be turned into text";
  }
}

function errorLikeMessage(err: object): string | null {
  try {
    const { message, name } = err as { message?: unknown; name?: unknown };
    return typeof message === "string" && typeof name === "string" ? message : null;
  } catch {
    return null;
  }
}

function articled(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/** A user's word for a message: escaped, then cut. */
export function shownText(text: string, maxChars: number): string {
  return shortened(escapeControls(text), maxChars);
}
