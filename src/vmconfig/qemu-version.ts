/**
 * A QEMU version as the plan, the watch and the model read it, and the pool
 * it ships: one rule for `--qemu-version`, the version in a binary's bytes
 * and the policy each implies.
 */
import type { PolicyName } from "../pools/index.js";
import type { QemuVersion } from "./qemu-rules.js";

/** "7.2", "10.0.2", "8.2.0-rc1": the major and minor; anything else is refused (TypeError). */
export function parseQemuVersion(text: string): QemuVersion {
  const m = /^(\d{1,3})\.(\d{1,3})(?:\.\d{1,3})?(?:[-+~][\w.+~-]*)?$/.exec(text);
  if (!m) throw new TypeError(`not a QEMU version: ${text}`);
  return { major: Number(m[1]), minor: Number(m[2]) };
}

/** The major and minor a version text begins with ("7.2.22", "10.0.2 (Debian …)"); null where it begins with none. */
export function leadingQemuVersion(text: string | null): QemuVersion | null {
  const m = text === null ? null : /^(\d+)\.(\d+)/.exec(text);
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : null;
}

/** QEMU's pool by version, and whether its hard cap applies. */
export interface QemuPool {
  readonly policy: PolicyName;
  readonly uncapped: boolean;
}

/**
 * QEMU's pool by version: up to 8.2 legacy; from 9.0 batched, whose hard cap
 * never applies on Linux (util/qemu-coroutine.c reads max_map_count with a
 * parser that rejects the file's trailing newline). 8.2 < v < 9.0 does not exist.
 */
export function poolOfVersion(v: QemuVersion | null): QemuPool | null {
  if (v === null) return null;
  return v.major < 9 ? { policy: "legacy", uncapped: false } : { policy: "batched", uncapped: true };
}

/** The pool as watch and plan name it: "legacy", "batched (uncapped)". */
export function poolLabel(pool: QemuPool): string {
  return pool.uncapped ? `${pool.policy} (uncapped)` : pool.policy;
}
