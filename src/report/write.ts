/**
 * Where a report goes, checked before a run starts (a run can take minutes;
 * finding out afterwards that the path is bad would waste it), and written
 * atomically: to a temporary file beside the target, then renamed over it,
 * so a reader never sees a half-written page.
 */
import { accessSync, constants, existsSync, mkdirSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { InputError } from "../errors.js";

/**
 * The absolute path for --report (or report -o). Nothing is created yet: the
 * nearest folder that exists must be writable, and missing folders below it
 * are made only when the report is written, so a run that never gets that
 * far leaves no trace. A bad path (empty, a folder, under a file, not
 * writable) is an input error with one line naming the path and the reason.
 */
export function prepareReportPath(value: unknown, flag = "--report"): string {
  if (typeof value !== "string" || value.trim() === "") {
    throw new InputError("ERR_REPORT_PATH", `bad value for ${flag}: '${String(value ?? "")}'; give the path of an HTML file to write, e.g. reports/run.html`);
  }
  const path = resolve(value);
  const dir = dirname(path);
  const existing = nearestExisting(dir);
  try {
    if (!statSync(existing).isDirectory()) throw Object.assign(new Error(), { code: "ENOTDIR" });
    accessSync(existing, constants.W_OK);
  } catch (err) {
    throw badPath(flag, value, `its folder '${dir}' cannot be used (${errorCode(err)})`);
  }
  let isDirectory = false;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch {
    // does not exist yet: fine
  }
  if (isDirectory) throw badPath(flag, value, "it is a folder");
  return path;
}

/** Writes `text` to `path` so that `path` holds either its old content or all of `text`, never part. */
export function writeFileAtomic(path: string, text: string, flag = "--report"): void {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now().toString(36)}.tmp`);
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(temporary, text, { encoding: "utf8", flag: "wx" });
    renameSync(temporary, path);
  } catch (err) {
    try {
      unlinkSync(temporary);
    } catch {
      // never created, or already renamed
    }
    throw badPath(flag, path, `writing failed (${errorCode(err)})`);
  }
}

/** `dir` itself, or its closest ancestor that exists. */
function nearestExisting(dir: string): string {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(d) || dirname(d) === d) return d;
  }
}

function badPath(flag: string, value: string, reason: string): InputError {
  return new InputError("ERR_REPORT_PATH", `cannot write ${flag} '${value}': ${reason}; give a writable file path`);
}

function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException)?.code ?? (err instanceof Error ? err.message : String(err));
}
