/**
 * Every file coropool writes (--report, report -o, import -o) goes through
 * here, under one rule:
 *
 * - Only a regular file is ever created or replaced. A path that exists and
 *   is anything else (a folder, a device, a FIFO, a socket) is refused. A
 *   symlink is followed: the regular file it names is replaced and the link
 *   stays; a link to anything else, or one that leads nowhere, is refused.
 * - A file the command reads (its inputs: a scenario file, a workload module,
 *   a log, a saved result) is never the output, whatever path names it (the
 *   same device and inode: through symlinks and hard links too).
 * - Missing folders on the way are made, but only when the file is written
 *   (a run that never gets that far leaves nothing), and removed again when
 *   the writing fails.
 * - The file is written whole beside its target under a hidden temporary
 *   name, then renamed over it: a reader sees the old file or the new one,
 *   never part. The temporary files go on every failure and every stop (an
 *   exception, an AbortSignal, or the process exiting on a second Ctrl-C).
 *
 * The path is checked before the command runs (checkOutputPath: bad input,
 * exit 2) and again when it is written (writeOutputFile), since a run can take
 * minutes and the file system can change meanwhile.
 */
import { accessSync, constants, existsSync, lstatSync, mkdirSync, realpathSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync, type Stats } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { CoropoolError, InputError } from "./errors.js";
import { fileKind } from "./input-file.js";

/** The code of an output that could not be written once the run was done (the CLI's exit 6, not bad input). */
export const OUTPUT_WRITE_FAILED = "ERR_REPORT_WRITE";

/** The code of an output path refused before anything runs (exit 2). */
export const OUTPUT_PATH_REFUSED = "ERR_REPORT_PATH";

/** Who asks, for messages: the flag as the user wrote it (--report, -o) and the path as given. */
export interface OutputRequest {
  flag: string;
  /** The path as given (relative or absolute). */
  value: string;
  /** Files the command reads, which the output must never be. */
  inputs: readonly string[];
}

/**
 * The absolute path for an output flag, checked before anything runs: not
 * empty; the file it (or its symlink) names is new or regular and not one of
 * `inputs`; the nearest folder that exists is a writable folder. Anything
 * else is an InputError naming the path and the reason.
 */
export function checkOutputPath(value: unknown, flag: string, inputs: readonly string[] = []): string {
  if (typeof value !== "string" || value.trim() === "") {
    throw new InputError(OUTPUT_PATH_REFUSED, `bad value for ${flag}: '${String(value ?? "")}'; give the path of a file to write`);
  }
  const request = { flag, value, inputs };
  const path = resolve(value);
  targetOf(path, request, (reason) => refused(request, reason));
  return path;
}

/** Names beside the output for what is written before it is put in place. */
export interface OutputScratch {
  /** The temporary file that becomes the output. */
  readonly temporary: string;
  /** Another temporary file beside it (removed at the end whatever happens). */
  scratch(suffix: string): string;
}

/**
 * Writes the output at `path` (checked by checkOutputPath): `write` fills
 * `scratch.temporary` (and any scratch files it asks for), and returns true
 * to put it in place or false to discard it (a stopped command). Then the
 * path is checked again and the temporary file renamed over the target.
 * Whatever happens, no temporary file is left. A failure of the file system
 * (a full disk, a file too large) is one line naming the path and the cause,
 * code OUTPUT_WRITE_FAILED; errors `write` throws for other reasons (bad
 * input) pass unchanged. Returns whether the output was written.
 */
export async function writeOutputFile(
  path: string,
  request: OutputRequest,
  write: (scratch: OutputScratch) => boolean | Promise<boolean>,
): Promise<boolean> {
  const failed = (reason: string) => new CoropoolError(OUTPUT_WRITE_FAILED, `cannot write ${request.flag} '${request.value}': ${reason}`);
  const target = targetOf(path, request, failed);
  const folder = dirname(target);
  const temporaries = new Temporaries(join(folder, `.${basename(target)}.${process.pid}.${uniqueSuffix()}`));
  let created: string[] = [];
  let written = false;
  try {
    created = makeFolders(folder);
    if (!(await write(temporaries))) return false;
    targetOf(path, request, failed);
    renameSync(temporaries.temporary, target);
    written = true;
    return true;
  } catch (err) {
    if (err instanceof CoropoolError || !isSystemError(err)) throw err;
    throw failed(systemReason(err, folder));
  } finally {
    temporaries.remove();
    if (!written) removeFolders(created);
  }
}

/** A whole text as the output (a report page). */
export async function writeOutputText(path: string, request: OutputRequest, text: string): Promise<void> {
  await writeOutputFile(path, request, ({ temporary }) => {
    writeFileSync(temporary, text, { encoding: "utf8", flag: "wx" });
    return true;
  });
}

/**
 * The file a write to `path` replaces: `path` itself when it is new or a
 * regular file, else the regular (or new) file its symlink names. Refused
 * through `refuse`: anything else, a target that is one of the inputs, or a
 * folder on the way that is not a writable folder.
 */
function targetOf(path: string, request: OutputRequest, refuse: (reason: string) => Error): string {
  const target = followedLink(path, refuse);
  const input = request.inputs.find((i) => sameFile(target, i));
  if (input !== undefined) throw refuse(`it is the input file '${input}', which would be lost`);
  const existing = nearestExisting(dirname(target));
  try {
    if (!statSync(existing).isDirectory()) throw Object.assign(new Error(), { code: "ENOTDIR" });
    accessSync(existing, constants.W_OK);
  } catch (err) {
    throw refuse(`its folder '${dirname(target)}' cannot be used (${errorCode(err)})`);
  }
  return target;
}

function followedLink(path: string, refuse: (reason: string) => Error): string {
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
  checkRegular(statSync(target), (reason) => refuse(`it is a symlink to '${target}', and ${reason}`));
  return target;
}

function checkRegular(stats: Stats, refuse: (reason: string) => Error): void {
  if (stats.isFile()) return;
  throw refuse(stats.isDirectory() ? "it is a folder" : `it is ${fileKind(stats)}, not a regular file`);
}

/** True when both paths name the same existing file (through links, hard links too). */
export function sameFile(a: string, b: string): boolean {
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

/** Makes `folder` and any missing folder above it; returns those it made, deepest first. */
function makeFolders(folder: string): string[] {
  const missing: string[] = [];
  for (let d = folder; !existsSync(d) && dirname(d) !== d; d = dirname(d)) missing.push(d);
  mkdirSync(folder, { recursive: true });
  return missing;
}

/** Removes folders made for an output that was never written (only while empty). */
function removeFolders(deepestFirst: string[]): void {
  for (const d of deepestFirst) {
    try {
      rmdirSync(d);
    } catch {
      return;
    }
  }
}

/**
 * The temporary files of one output, removed at the end, and, should the
 * process exit first (a second Ctrl-C exits at once), by its 'exit' handler:
 * the only cleanup that still runs then.
 */
class Temporaries implements OutputScratch {
  private readonly paths: string[];
  private readonly onExit = () => this.remove();

  constructor(readonly temporary: string) {
    this.paths = [temporary];
    process.on("exit", this.onExit);
  }

  scratch(suffix: string): string {
    const path = `${this.temporary}.${suffix}`;
    this.paths.push(path);
    return path;
  }

  remove(): void {
    for (const path of this.paths) rmSync(path, { force: true });
    process.off("exit", this.onExit);
  }
}

let outputsWritten = 0;

/** Two outputs of one process (and one millisecond) never share a temporary name. */
function uniqueSuffix(): string {
  return `${Date.now().toString(36)}${(outputsWritten++).toString(36)}.tmp`;
}

function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === "string";
}

/** Why the file system refused, in words: a full disk says so, and where. */
function systemReason(err: NodeJS.ErrnoException, folder: string): string {
  switch (err.code) {
    case "ENOSPC":
      return `the disk is full (ENOSPC) in '${folder}'; free some space there or write elsewhere`;
    case "EDQUOT":
      return `the disk quota is used up (EDQUOT) in '${folder}'; free some space there or write elsewhere`;
    case "EFBIG":
      return `the file is larger than this process may write (EFBIG, see ulimit -f) in '${folder}'`;
    case "EROFS":
      return `the file system of '${folder}' is read-only (EROFS)`;
    default:
      return `writing in '${folder}' failed (${err.code})`;
  }
}

function refused(request: OutputRequest, reason: string): InputError {
  return new InputError(OUTPUT_PATH_REFUSED, `cannot write ${request.flag} '${request.value}': ${reason}; give a writable file path`);
}

function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException)?.code ?? (err instanceof Error ? err.message : String(err));
}
