/**
 * The dependency rule of docs/design.md#floors: a layer imports only from
 * itself and the layers below it, and no set of modules imports itself round
 * a cycle. Every static import, export-from and dynamic import() of a relative
 * path under src/ is read from the source text, so a type-only import counts
 * as much as a value one (it ties the layers together just the same).
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "..");
const SRC = join(ROOT, "src");

/** Bottom to top. `base` is the loose files at the top of src/ (errors, text helpers). */
const LAYERS = [
  "base",
  "sync",
  "shared",
  "vma",
  "stacks",
  "pools",
  "coroutine",
  "runtime",
  "replay",
  "vmconfig",
  "host",
  "plan",
  "scenarios",
  "experiments",
  "report",
  "options",
  "api",
  "cli",
] as const;

function layerOf(file: string): string {
  const rel = relative(SRC, file);
  if (rel === "index.ts") return "api";
  const top = rel.split("/")[0]!;
  return rel.includes("/") ? top : "base";
}

function rank(layer: string): number {
  const i = (LAYERS as readonly string[]).indexOf(layer);
  if (i < 0) throw new Error(`src/${layer}/ is in no layer: add it to LAYERS in test/layers.test.ts`);
  return i;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith(".ts") ? [path] : [];
  });
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^;'"]*?from\s*["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']\s*\)/g;

/** The files under src/ that `file` imports, resolved to their .ts sources. */
export function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2]!;
    if (!spec.startsWith(".")) continue;
    const target = resolve(dirname(file), spec).replace(/\.js$/, ".ts");
    if (target.startsWith(SRC + "/")) out.push(target);
  }
  return out;
}

const files = sourceFiles(SRC);
const graph = new Map(files.map((f) => [f, importsOf(f)]));

function cycles(): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (f: string): void => {
    state.set(f, "open");
    path.push(f);
    for (const g of graph.get(f) ?? []) {
      if (state.get(g) === "open") found.push(path.slice(path.indexOf(g)).map((p) => relative(ROOT, p)));
      else if (!state.has(g)) visit(g);
    }
    path.pop();
    state.set(f, "done");
  };
  for (const f of files) if (!state.has(f)) visit(f);
  return found;
}

describe("the layers of src/", () => {
  it("reads the imports it checks (the rule is not vacuous)", () => {
    expect(files.length).toBeGreaterThan(50);
    const edges = [...graph.values()].reduce((n, list) => n + list.length, 0);
    expect(edges).toBeGreaterThan(100);
    // A known downward import is seen, so a broken pattern cannot pass silently.
    expect(graph.get(join(SRC, "pools", "legacy.ts"))!.some((f) => layerOf(f) === "shared")).toBe(true);
  });

  it("every file is in a layer", () => {
    for (const f of files) expect(() => rank(layerOf(f)), relative(ROOT, f)).not.toThrow();
  });

  it("a layer imports only from itself and the layers below it", () => {
    const upward: string[] = [];
    for (const [f, targets] of graph) {
      for (const t of targets) {
        if (rank(layerOf(t)) > rank(layerOf(f))) {
          upward.push(`${relative(ROOT, f)} (${layerOf(f)}) imports ${relative(ROOT, t)} (${layerOf(t)})`);
        }
      }
    }
    expect(upward).toEqual([]);
  });

  it("no module imports itself round a cycle", () => {
    expect(cycles()).toEqual([]);
  });
});
