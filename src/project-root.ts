import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The package's root folder, found by walking up to package.json, so bundled
 * files resolve the same from src/ (tests) and from dist/src/ (the CLI).
 */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("coropool: cannot find package.json above " + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
}
