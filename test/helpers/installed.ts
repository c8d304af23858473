/**
 * Programs from Debian that some tests drive (promtool, prometheus, gcc).
 * Without one the test says so in one line and skips; under CI (CI=true) a
 * missing one fails instead, since .ci/run installs them.
 */
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

export const IN_CI = process.env.CI === "true";

/** The program's path on PATH, or null. */
export function installed(program: string): string | null {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const path = join(dir, program);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not in this folder
    }
  }
  return null;
}

/**
 * The reason a suite needing `programs` is skipped, printed once as one line,
 * or null when all are there (or under CI, where the suite runs and fails).
 */
export function skipReason(suite: string, programs: readonly string[], install: string): string | null {
  const missing = programs.filter((p) => installed(p) === null);
  if (missing.length === 0 || IN_CI) return null;
  const reason = `${suite}: SKIPPED, ${missing.join(" and ")} not installed (${install})`;
  console.warn(reason);
  return reason;
}
