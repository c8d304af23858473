/**
 * A fast-check fuzz of every command's flags (issue 11): whatever the command
 * line, the answer is bad input (exit 2, exactly one line on stderr, nothing
 * on stdout) or a run that printed its result (with its own status) — never
 * an internal error or a stack trace. In-process through main(), with values
 * that keep valid runs tiny, so the whole fuzz stays within seconds.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../src/cli/main.js";

const TMP = mkdtempSync(join(tmpdir(), "coropool-cli-fuzz-"));
afterAll(() => spawnSync("rm", ["-rf", TMP]));
const FIFO = join(TMP, "pipe");
spawnSync("mkfifo", [FIFO]);
writeFileSync(join(TMP, "w.mjs"), "export default { coroutines: ({ options }) => Array.from({ length: Number(options.n ?? 3) }, (_, i) => i), *coroutine(i) { yield; if (i === 2) throw new Error('two'); return i; } };\n");
const CUSTOM = join(TMP, "custom.json");
writeFileSync(CUSTOM, JSON.stringify({ kind: "custom", module: "w.mjs", threads: 2, maxMapCount: 100000, seed: 1 }));
const TRACE = join(TMP, "t.trace");
writeFileSync(TRACE, "threads 2\ninc 8\ncreate T0 a\ncreate T1 b\nterminate T1 a\nterminate T0 b\n");
const STRESS = "test/fixtures/scenarios/stress-tiny.json";
const IMBALANCE = "test/fixtures/scenarios/imbalance-exact.json";
const RANDREAD = "test/fixtures/scenarios/randread-tiny.json";

/** Values for each flag: valid small ones and the kinds of wrong ones users type. */
const VALUES: Record<string, string[]> = {
  policy: ["legacy", "batched", "none", "legacy,batched", "bogus", "legacy,legacy", ",none", ""],
  threads: ["2", "3", "0", "65", "x", "-1"],
  "max-map-count": ["100000", "300", "0", "x", "2147483648"],
  "baseline-vmas": ["100", "-5", "y", "99999999999"],
  seed: ["0", "7", "-1", "1e3", "4294967296"],
  scenario: [STRESS, IMBALANCE, RANDREAD, CUSTOM, FIFO, TMP, "nope.json", ""],
  backend: ["simulated", "gpu", ""],
  "stack-size": ["64k", "3", "1g", "x"],
  "timeout-ms": ["5000", "99", "x"],
  "stack-slots": ["100000", "0", "x", "99999999999"],
  report: [join(TMP, "r.html"), TMP, FIFO, "", join(TMP, "sub", "r.html")],
  rounds: ["1", "0", "x", "70000"],
  "duration-ms": ["10", "9", "x"],
  iodepths: ["1", "1,2", "0", "1,1", ""],
  "block-sizes": ["4k", "3", "4k,4k", "1g"],
  output: [join(TMP, "o.html"), FIFO, TMP, ""],
};
const BOOLEANS = ["json", "uncapped", "check", "allow-failures"];
const JUNK = ["--frobnicate", "-z", "extra", "--json=1", "--", "-h"];

/** Per command: its arguments before the flags, and the flags it has. */
const COMMANDS: Record<string, { head: string[][]; flags: string[] }> = {
  demo: { head: [[]], flags: ["max-map-count", "report"] },
  stress: { head: [["--scenario", STRESS]], flags: ["policy", "threads", "max-map-count", "baseline-vmas", "seed", "scenario", "backend", "timeout-ms", "stack-slots", "report", "rounds"] },
  imbalance: { head: [["--scenario", IMBALANCE]], flags: ["policy", "threads", "max-map-count", "baseline-vmas", "seed", "timeout-ms", "stack-slots", "report"] },
  randread: { head: [["--scenario", RANDREAD]], flags: ["policy", "threads", "seed", "timeout-ms", "report", "duration-ms", "iodepths", "block-sizes"] },
  run: { head: [[CUSTOM], [STRESS], [FIFO], ["nope.json"]], flags: ["policy", "threads", "max-map-count", "baseline-vmas", "seed", "scenario", "stack-size", "timeout-ms", "stack-slots", "report"] },
  replay: { head: [[TRACE], ["imbalance"], [FIFO], []], flags: ["policy", "max-map-count", "baseline-vmas"] },
  report: { head: [[join(TMP, "nope.json")], [FIFO], [CUSTOM]], flags: ["output"] },
};

function argv(command: string): fc.Arbitrary<string[]> {
  const { head, flags } = COMMANDS[command]!;
  const flagWords = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...flags).chain((f) => fc.constantFrom(...VALUES[f]!).map((v) => [`--${f}`, v])) },
    { weight: 2, arbitrary: fc.constantFrom(...BOOLEANS).map((b) => [`--${b}`]) },
    { weight: 1, arbitrary: fc.constantFrom(...JUNK).map((j) => [j]) },
    { weight: 1, arbitrary: fc.string({ maxLength: 6 }).map((s) => [s]) },
  );
  return fc.tuple(fc.constantFrom(...head), fc.array(flagWords, { maxLength: 4 })).map(([h, words]) => [command, ...h, ...words.flat()]);
}

/** Collects what main() writes. */
function sink(): { write(text: string): boolean; text: string } {
  return {
    text: "",
    write(t: string) {
      this.text += t;
      return true;
    },
  };
}

const PRINTED_RUN = [0, 3, 4, 5, 6];

describe("fuzz: every command's flags through main()", () => {
  it.each(Object.keys(COMMANDS))("%s: exit 2 with one line, or a run that printed its result; never an internal error", async (command) => {
    await fc.assert(
      fc.asyncProperty(argv(command), async (args) => {
        const out = sink();
        const err = sink();
        const code = await main(args, out as unknown as NodeJS.WriteStream, err as unknown as NodeJS.WriteStream);
        const where = `coropool ${args.join(" ")}`;
        expect(err.text, where).not.toMatch(/internal error|\n\s+at |Error:/);
        if (code === 2) {
          expect(out.text, where).toBe("");
          expect(err.text.split("\n"), where).toHaveLength(2);
          expect(err.text, where).toMatch(/^coropool: /);
          return;
        }
        expect(PRINTED_RUN, `${where} exited ${code}: ${err.text}`).toContain(code);
        expect(out.text.length, where).toBeGreaterThan(0);
        if (args.includes("--json") && !args.includes("--help") && !args.includes("-h") && command !== "report") JSON.parse(out.text);
      }),
      { numRuns: command === "demo" ? 4 : command === "imbalance" || command === "randread" ? 10 : 20, seed: 11 },
    );
  }, 120_000);
});
