/**
 * User text inside an error message. Every input error is one line on stderr,
 * so nothing a user typed may reach it raw: a newline would split the line
 * and an escape sequence would act on the terminal. Long text is cut, so a
 * message stays readable.
 */

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
 * What user code threw, as one line: an Error's message or the value as a
 * string, even a value that cannot become a string (an object without a
 * prototype); escaped and cut to `maxChars`.
 */
export function describeThrown(err: unknown, maxChars = 200): string {
  let text: string;
  try {
    text = err instanceof Error ? err.message : String(err);
  } catch {
    text = "a value that cannot be turned into text";
  }
  return shownText(text.split("\n")[0]!, maxChars);
}

/** A user's word for a message: escaped, then cut. */
export function shownText(text: string, maxChars: number): string {
  return shortened(escapeControls(text), maxChars);
}
