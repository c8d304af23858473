import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { projectRoot } from "../src/project-root.js";

export const RESULTS_FILE = join(projectRoot(), "bench", "RESULTS.md");

const HEADER_START = "<!-- machine -->";
const HEADER_END = "<!-- /machine -->";

/** The machine and the day, as a run of the benchmarks saw them. */
export function machineSummary(now = new Date()): string {
  const cpu = cpus();
  return [
    `- CPU: ${cpu[0]?.model ?? "unknown"}, ${cpu.length} cores (as Node reports them)`,
    `- Node.js ${process.version} on ${process.platform} ${process.arch}`,
    `- Date: ${now.toISOString().slice(0, 10)}`,
  ].join("\n");
}

/**
 * Replaces one suite's section of bench/RESULTS.md (and the machine lines),
 * keeping the others, so `npm run bench -- NAME` refreshes just that suite.
 * Written to a temporary file and renamed: never half-written.
 */
export function writeSection(name: string, title: string, command: string, body: string, file = RESULTS_FILE): void {
  const start = `<!-- suite:${name} -->`;
  const end = `<!-- /suite:${name} -->`;
  const section = [start, `## ${title}`, "", `Reproduce: \`${command}\``, "", body, end].join("\n");
  let text = existsSync(file) ? readFileSync(file, "utf8") : skeleton();
  text = replaceBetween(text, HEADER_START, HEADER_END, `${HEADER_START}\n${machineSummary()}\n${HEADER_END}`);
  text = text.includes(start) ? replaceBetween(text, start, end, section) : `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(file + ".tmp", text);
  renameSync(file + ".tmp", file);
}

function replaceBetween(text: string, start: string, end: string, replacement: string): string {
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a === -1 || b === -1) return `${replacement}\n\n${text}`;
  return text.slice(0, a) + replacement + text.slice(b + end.length);
}

function skeleton(): string {
  return [
    "# coropool benchmark results",
    "",
    "Written by `npm run bench` (all suites) or `npm run bench -- NAME` (one suite: micro, pool, mutex, stacks, randread, figures).",
    "Ratios measured in the same run are the figures to quote; single absolute times on a shared machine are noise.",
    "",
    HEADER_START,
    HEADER_END,
  ].join("\n");
}
