/**
 * docs/design.md is the architecture the tests and fixtures cite: every
 * citation (the page's path, "#" and a section's anchor) names a section that exists, none cites
 * the team's background notes outside the repository, and the page names what it claims to:
 * every word of the shared region and every floor of src/.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { Header, Slot, Thread, Totals, Vma } from "../src/shared/layout.js";

const ROOT = join(import.meta.dirname, "..");
const DESIGN = readFileSync(join(ROOT, "docs", "design.md"), "utf8");

/** The folders whose files may cite the page, and the kinds of file read. */
const CITING = ["README.md", "docs", "src", "test", "scripts", "bench", "traces", "scenarios", "examples", "workers"];
const TEXT = /\.(ts|mjs|js|md|json|sh|c|trace)$/;
/** Tests that name the background notes' file only to check that nothing cites it. */
const CHECKS_ABSENCE = ["test/harden.test.ts", "test/design-doc.test.ts"];

function files(path: string): string[] {
  const full = join(ROOT, path);
  const entries = (() => {
    try {
      return readdirSync(full, { withFileTypes: true });
    } catch {
      return null;
    }
  })();
  if (entries === null) return TEXT.test(path) ? [path] : [];
  return entries.flatMap((e) => (e.isDirectory() ? files(join(path, e.name)) : TEXT.test(e.name) ? [join(path, e.name)] : []));
}

/** A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces to hyphens. */
function anchorOf(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/ /g, "-");
}

const anchors = new Set([...DESIGN.matchAll(/^#{2,4} (.+)$/gm)].map((m) => anchorOf(m[1]!)));
const projectFiles = CITING.flatMap(files).map((f) => relative(ROOT, join(ROOT, f)));

describe("docs/design.md", () => {
  it("is cited by the tests and fixtures, each citation naming a section it has", () => {
    const cited = projectFiles.flatMap((f) => [...readFileSync(join(ROOT, f), "utf8").matchAll(/design\.md#([\w-]+)/g)].map((m) => ({ f, anchor: m[1]! })));
    // policies, policy-interface, elastic, fuzz, layers, json-schema, the oracle's README, traces/README.
    expect(new Set(cited.map((c) => c.f)).size).toBeGreaterThanOrEqual(8);
    expect(cited.filter((c) => !anchors.has(c.anchor))).toEqual([]);
  });

  it("no file cites the background notes outside the repository", () => {
    const citing = projectFiles.filter((f) => !CHECKS_ABSENCE.includes(f) && /DESIGN(\.md|'s)/.test(readFileSync(join(ROOT, f), "utf8")));
    expect(citing).toEqual([]);
  });

  it("names every word of the shared region (src/shared/layout.ts)", () => {
    const words = [Header, Vma, Thread, Slot, Totals].flatMap((group) => Object.keys(group));
    expect(words.filter((w) => !new RegExp(`\\b${w}\\b`).test(DESIGN))).toEqual([]);
  });

  it("gives every folder of src/ a floor, and keeps the lead's section", () => {
    const folders = readdirSync(join(ROOT, "src"), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    expect(folders.filter((d) => !DESIGN.includes(`| \`src/${d}/\``))).toEqual([]);
    expect(anchors.has("options-one-contract-at-every-door")).toBe(true);
  });
});
