import { readFileSync } from "node:fs";
import { join } from "node:path";
import { projectRoot } from "../project-root.js";

/** The version in the package's own package.json (read when asked: only --version needs it). */
export function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(join(projectRoot(), "package.json"), "utf8")) as { version: string };
  return manifest.version;
}
