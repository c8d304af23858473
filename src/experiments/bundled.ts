/**
 * The files the package ships for users to run (scenarios/*.json,
 * traces/*.trace), addressable by name from anywhere: `bug-report` is the
 * package's scenarios/bug-report.json whatever the current folder, so the
 * examples in every --help work from an install as well as from a checkout.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../errors.js";
import { MAX_SHOWN_CHARS, shownText } from "../message-text.js";
import { projectRoot } from "../project-root.js";

/** A folder of bundled files of one kind. */
export interface BundledFolder {
  /** The folder in the package root. */
  folder: string;
  /** Every bundled file's name ends with one of them; a name is given without it. */
  extensions: readonly string[];
}

export const BUNDLED_SCENARIOS: BundledFolder = { folder: "scenarios", extensions: [".json"] };
/** Pool-event traces, and real QEMU trace logs (gzip) to replay and ask what-ifs of. */
export const BUNDLED_TRACES: BundledFolder = { folder: "traces", extensions: [".trace", ".log.gz"] };

/** The bundled file names with the extension each has, sorted by name. */
function bundledFiles(bundle: BundledFolder): { name: string; file: string }[] {
  return readdirSync(join(projectRoot(), bundle.folder))
    .flatMap((file) => {
      const ext = bundle.extensions.find((e) => file.endsWith(e));
      return ext === undefined ? [] : [{ name: file.slice(0, -ext.length), file }];
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The names of the bundled files, sorted. */
export function bundledNames(bundle: BundledFolder): string[] {
  return bundledFiles(bundle).map((f) => f.name);
}

/** The path of the bundled file `name` (which must exist: use it with the names bundledNames gives). */
export function bundledPath(bundle: BundledFolder, name: string): string {
  return findBundled(bundle, name) ?? join(projectRoot(), bundle.folder, name + bundle.extensions[0]);
}

/** The path of the bundled file called `name`, if there is one. */
function findBundled(bundle: BundledFolder, name: string): string | undefined {
  const found = bundledFiles(bundle).find((f) => f.name === name);
  return found && join(projectRoot(), bundle.folder, found.file);
}

/** Whether `value` reads as a name rather than a path: no folder separator and none of the file extensions. */
export function looksLikeName(bundle: BundledFolder, value: string): boolean {
  return value !== "" && !/[\\/]/.test(value) && !bundle.extensions.some((e) => value.endsWith(e));
}

/**
 * A user's reference to a bundled file or a path: the bundled file when
 * `value` is one's name; else the path as given, when it is a path or names
 * something that exists here; else null (a name nothing has).
 */
export function resolveBundled(bundle: BundledFolder, value: string): string | null {
  if (!looksLikeName(bundle, value)) return value;
  return findBundled(bundle, value) ?? (existsSync(value) ? value : null);
}

/** What a bundled file of each folder is called in messages. */
const WHAT: Record<string, string> = { scenarios: "scenario", traces: "trace" };

/**
 * The path `value` names: a bundled file's when it is one's name, else the
 * value itself as a path. A name that neither the package nor the current
 * folder has is bad input, said in one line that lists the bundled names;
 * `context` starts that line (e.g. "bad value for --scenario").
 */
export function bundledOrPath(bundle: BundledFolder, value: string, context: string): string {
  const path = resolveBundled(bundle, value);
  if (path !== null) return path;
  const what = WHAT[bundle.folder] ?? bundle.folder;
  throw new InputError(
    "ERR_USAGE",
    `${context}: '${shownText(value, MAX_SHOWN_CHARS)}' is no bundled ${what} and no file; allowed: a bundled ${what}'s name (${bundledNames(bundle).join(", ")}) or the path of a ${what} file`,
  );
}
