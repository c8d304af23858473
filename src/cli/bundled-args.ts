import { InputError } from "../errors.js";
import { bundledNames, resolveBundled, type BundledFolder } from "../experiments/bundled.js";
import { shownArg } from "./args.js";

/** What a bundled file of each folder is called in messages. */
const WHAT: Record<string, string> = { scenarios: "scenario", traces: "trace" };

/**
 * The path a command-line value names: a bundled file's when the value is
 * its name, else the value itself as a path. A name that neither the package
 * nor the current folder has is bad input, said in one line that lists the
 * bundled names; `context` starts that line (e.g. "bad value for --scenario").
 */
export function bundledFileArg(bundle: BundledFolder, value: string, context: string): string {
  const path = resolveBundled(bundle, value);
  if (path !== null) return path;
  const what = WHAT[bundle.folder] ?? bundle.folder;
  throw new InputError(
    "ERR_USAGE",
    `${context}: '${shownArg(value)}' is no bundled ${what} and no file; allowed: a bundled ${what}'s name (${bundledNames(bundle).join(", ")}) or the path of a ${what} file`,
  );
}
