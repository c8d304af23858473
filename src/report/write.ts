/**
 * Where a report goes, checked before a run starts (a run can take minutes;
 * finding out afterwards that the path is bad would waste it), and written
 * atomically: to a temporary file beside the target, then renamed over it,
 * so a reader never sees a half-written page.
 *
 * Only ever a regular file is created or replaced. An existing path that is
 * anything else (a device, a FIFO, a socket, a folder) is refused; a symlink
 * is written through (the file it names is replaced, the link stays); a path
 * that is one of the command's inputs, also through links, is refused.
 */
import { accessSync, constants, existsSync, lstatSync, mkdirSync, realpathSync, renameSync, statSync, unlinkSync, writeFileSync, type Stats } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { CoropoolError, InputError } from "../errors.js";
import { fileKind } from "../input-file.js";

/** The code of a report that could not be written after the run (the CLI's exit 6, not bad input). */
export const REPORT_WRITE_FAILED = "ERR_REPORT_WRITE";

/**
 * The absolute path for --report (or report -o). Nothing is created yet: the
 * nearest folder that exists must be writable, and missing folders below it
 * are made only when the report is written, so a run that never gets that
 * far leaves no trace. A bad path (empty, a folder, not a regular file, under
 * a file, not writable, one of `inputs`) is an input error with one line
 * naming the path and the reason.
 */
export function prepareReportPath(value: unknown, flag = "--report", inputs: readonly string[] = []): string {
  if (typeof value !== "string" || value.trim() === "") {
    throw new InputError("ERR_REPORT_PATH", `bad value for ${flag}: '${String(value ?? "")}'; give the path of an HTML file to write, e.g. reports/run.html`);
  }
  const path = resolve(value);
  const target = writtenPath(path, (reason) => badPath(flag, value, reason));
  const dir = dirname(target);
  const existing = nearestExisting(dir);
  try {
    if (!statSync(existing).isDirectory()) throw Object.assign(new Error(), { code: "ENOTDIR" });
    accessSync(existing, constants.W_OK);
  } catch (err) {
    throw badPath(flag, value, `its folder '${dir}' cannot be used (${errorCode(err)})`);
  }
  for (const input of inputs) {
    if (sameFile(target, input)) throw badPath(flag, value, `it is the input file '${input}', which would be lost`);
  }
  return path;
}

/**
 * Writes `text` to `path` so that the file holds either its old content or
 * all of `text`, never part; through a symlink, the file it names. Checked
 * again here: only a regular file (or a new one) is ever replaced.
 */
export function writeFileAtomic(path: string, text: string, flag = "--report"): void {
  const target = writtenPath(path, (reason) => writeFailed(flag, path, reason));
  const temporary = join(dirname(target), `.${basename(target)}.${process.pid}.${Date.now().toString(36)}.tmp`);
  try {
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(temporary, text, { encoding: "utf8", flag: "wx" });
    renameSync(temporary, target);
  } catch (err) {
    try {
      unlinkSync(temporary);
    } catch {
      // never created, or already renamed
    }
    throw writeFailed(flag, path, `writing failed (${errorCode(err)})`);
  }
}

/**
 * The file a write to `path` replaces: `path` itself when it is new or a
 * regular file, the file a symlink names (which must itself be new or
 * regular); anything else is refused through `refuse`.
 */
function writtenPath(path: string, refuse: (reason: string) => Error): string {
  const link = lstatOrNull(path);
  if (link === null) return path;
  if (!link.isSymbolicLink()) {
    checkRegular(link, refuse);
    return path;
  }
  let target: string;
  try {
    target = realpathSync(path);
  } catch (err) {
    throw refuse(`it is a symlink whose target cannot be followed (${errorCode(err)}); give the target's path instead`);
  }
  const stats = lstatOrNull(target);
  if (stats !== null) checkRegular(stats, (reason) => refuse(`it is a symlink to '${target}', and ${reason}`));
  return target;
}

function checkRegular(stats: Stats, refuse: (reason: string) => Error): void {
  if (stats.isFile()) return;
  throw refuse(stats.isDirectory() ? "it is a folder" : `it is ${fileKind(stats)}, not a regular file`);
}

/** True when both paths name the same existing file (through links, hard links too). */
function sameFile(a: string, b: string): boolean {
  try {
    const x = statSync(a);
    const y = statSync(b);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
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

function writeFailed(flag: string, path: string, reason: string): CoropoolError {
  return new CoropoolError(REPORT_WRITE_FAILED, `cannot write ${flag} '${path}': ${reason}`);
}

function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException)?.code ?? (err instanceof Error ? err.message : String(err));
}
