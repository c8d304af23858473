// Issue 7, "every bad input answered": a table of bad inputs through the real
// CLI (dist/src/cli/bin.js; `npx tsc -p tsconfig.json` first). Each one must be
// refused with exit status 2, nothing on stdout, and exactly one line on
// stderr that starts with "coropool: ", names the bad value and says what is
// allowed; never a stack trace, and never a --report file written.
//
// The CLI takes one command line per process, so each row is one spawn
// (about 0.2 s). Bad scenario files and traces are written below into a
// temporary folder that is the CLI's working directory, so the messages name
// them by their short relative names; custom workload modules are fixtures in
// test/fixtures/bad/.
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, runCli, runMain, type CliRun } from "./helpers/cli.js";

const TMP = mkdtempSync(join(tmpdir(), "coropool-bad-input-"));
/** The fixtures, relative to the repository (runCli's default working directory). */
const BAD = relative(ROOT, join(import.meta.dirname, "fixtures", "bad"));
const badFixture = (name: string) => join(BAD, name);
const workloadPath = (name: string) => join(ROOT, BAD, "workloads", name);
/** Bounded, so a hung CLI fails its row instead of holding the file (spawnSync blocks). */
const SPAWN = { timeoutMs: 15_000 };
/** A --report path in the temporary folder that no refused command may create. */
const REPORT = join(TMP, "never-written.html");

/** Writes a file into the temporary folder and returns its name there. */
function tmpFile(name: string, text: string): string {
  writeFileSync(join(TMP, name), text);
  return name;
}

/** A scenario file: `base` with the given fields replaced (undefined removes one). */
function scenarioFile(name: string, base: Record<string, unknown>, edits: Record<string, unknown> = {}): string {
  const scenario: Record<string, unknown> = { ...structuredClone(base), ...edits };
  for (const [key, value] of Object.entries(edits)) if (value === undefined) delete scenario[key];
  return tmpFile(name, JSON.stringify(scenario, null, 2));
}

const STRESS = {
  kind: "vma-exhaustion",
  guest: { iothreads: 4, devices: [{ name: "disk0", numQueues: 4, queueSize: 64 }] },
  rounds: 1,
  maxMapCount: 65530,
};
const IMBALANCE = { kind: "imbalance", threads: 4, burst: 64, inFlight: 16, rounds: 1 };
const RANDREAD = { kind: "randread", iodepths: [1], blockSizes: ["4k"], durationMs: 20 };
const CUSTOM = { kind: "custom", module: "workload.mjs" };
tmpFile("workload.mjs", "export default { coroutines() { return []; }, *coroutine() {} };\n");

const guest = (edits: Record<string, unknown>) => ({ guest: { ...STRESS.guest, ...edits } });
const device = (edits: Record<string, unknown>) => guest({ devices: [{ ...STRESS.guest.devices[0], ...edits }] });

const STRESS_FIELDS = "kind, description, guest, rounds, inFlight, mainLoopInFlight, maxMapCount, seed";
const RUNTIME_FLAGS =
  "--policy, --threads, --max-map-count, --baseline-vmas, --uncapped, --seed, --scenario, --json, --backend, --stack-size, --check, --timeout-ms, --stack-slots, --report";
const COMMANDS = "demo, replay, whatif, plan, import, stress, imbalance, randread, run, report, watch";
const POLICIES = "legacy, batched, none, elastic";

/** A trace file in the temporary folder; `replay` it with a policy. */
function replay(name: string, text: string): string[] {
  return ["replay", tmpFile(name, text), "--policy", "legacy", "--max-map-count", "65530", "--baseline-vmas", "100"];
}

interface BadInput {
  what: string;
  args: string[];
  /** The whole line after "coropool: ", or a pattern for it when it quotes V8's own words. */
  message: string | RegExp;
  /** Where the CLI runs: the temporary folder (files written above) or the repository. */
  cwd: "tmp" | "repo";
}

const flag = (what: string, args: string[], message: string | RegExp): BadInput => ({ what, args, message, cwd: "repo" });
const inTmp = (what: string, args: string[], message: string | RegExp): BadInput => ({ what, args, message, cwd: "tmp" });

const BAD_INPUTS: BadInput[] = [
  // ------------------------------------------------------------ commands and flags
  flag("no command", [], `missing the COMMAND; allowed: ${COMMANDS}; see 'coropool --help'`),
  flag("an unknown command", ["frobnicate"], `unknown command 'frobnicate'; allowed: ${COMMANDS}`),
  flag("a command name with a newline", ["st\nress"], `unknown command 'st\\nress'; allowed: ${COMMANDS}`),
  flag("an unknown flag", ["stress", "--frobnicate", "--report", REPORT], `stress: unknown option --frobnicate; allowed: ${RUNTIME_FLAGS.replace("--threads, ", "").replace(", --report", "")}, --rounds, --report, --help (-h); see 'coropool stress --help'`),
  flag("an unknown short flag", ["imbalance", "-x"], `imbalance: unknown option -x; allowed: ${RUNTIME_FLAGS}, --help (-h); see 'coropool imbalance --help'`),
  flag("a runtime flag demo does not take", ["demo", "--threads", "2"], "demo: unknown option --threads; allowed: --json, --max-map-count, --report, --help (-h); see 'coropool demo --help'"),
  flag("a flag without its value", ["stress", "--policy"], "stress: missing the value of --policy; see 'coropool stress --help'"),
  flag("a flag followed by another flag", ["imbalance", "--seed", "--json"], "imbalance: missing the value of --seed ('--json' is an option; write --seed=VALUE for a value that starts with '-'); see 'coropool imbalance --help'"),
  flag("a value given to a switch", ["stress", "--json=yes"], "stress: Option '--json' does not take an argument; see 'coropool stress --help'"),
  flag("an extra argument", ["stress", "extra"], "stress: unexpected argument 'extra'; see 'coropool stress --help'"),
  flag("--policy unknown", ["stress", "--policy", "fifo"], `bad --policy fifo; allowed: ${POLICIES} or a list of them, each once`),
  flag("--policy unknown in a list", ["imbalance", "--policy", "legacy,fifo"], `bad --policy legacy,fifo (fifo is not allowed); allowed: ${POLICIES} or a list of them, each once`),
  flag("--policy twice in a list", ["stress", "--policy", "batched,legacy,batched"], `bad --policy batched,legacy,batched (batched twice); allowed: ${POLICIES} or a list of them, each once`),
  flag("--policy with an empty item", ["randread", "--policy", "legacy,"], `bad --policy legacy, (an empty item); allowed: ${POLICIES} or a list of them, each once`),
  flag("--policy empty", ["stress", "--policy", ""], `bad --policy ''; allowed: ${POLICIES} or a list of them, each once`),
  flag("--threads 0", ["randread", "--threads", "0"], "bad --threads 0; allowed: an integer from 1 to 64"),
  flag("--threads 65", ["imbalance", "--threads", "65"], "bad --threads 65; allowed: an integer from 1 to 64"),
  flag("--threads not an integer", ["imbalance", "--threads", "2.5"], "bad --threads 2.5; allowed: an integer from 1 to 64"),
  flag("--threads 1 for imbalance", ["imbalance", "--threads", "1"], "bad --threads 1; allowed: an integer from 2 to 64 (the bursting thread and at least one other) for kind 'imbalance'"),
  flag("--threads with a newline in it", ["imbalance", "--threads", "4\n5"], "bad --threads '4\\n5'; allowed: an integer from 1 to 64"),
  flag("--threads for stress", ["stress", "--threads", "4"], "bad --threads 4; allowed: none for kind 'vma-exhaustion': the guest's IOThreads and main loop set the threads (edit the scenario)"),
  flag("--seed -1", ["stress", "--seed", "-1"], "bad --seed -1; allowed: an integer from 0 to 4294967295"),
  flag("--seed past 32 bits", ["imbalance", "--seed", "4294967296"], "bad --seed 4294967296; allowed: an integer from 0 to 4294967295"),
  flag("--max-map-count 0", ["stress", "--max-map-count", "0"], "bad --max-map-count 0; allowed: an integer from 1 to 2147483647"),
  flag("--max-map-count negative", ["replay", "x.trace", "--policy", "legacy", "--max-map-count", "-5"], "bad --max-map-count -5; allowed: an integer from 1 to 2147483647"),
  flag("--baseline-vmas x", ["stress", "--baseline-vmas", "x"], "bad --baseline-vmas x; allowed: an integer from 0 to 2147483647"),
  flag("--backend gpu", ["stress", "--backend", "gpu"], "bad --backend gpu; allowed: simulated, kernel"),
  flag("--stack-size 3000", ["stress", "--stack-size", "3000"], "bad --stack-size 3000; allowed: a multiple of 4096 bytes up to 256m, e.g. 64k or 1m"),
  flag("--stack-size 1g", ["stress", "--stack-size", "1g"], "bad --stack-size 1g; allowed: a multiple of 4096 bytes up to 256m, e.g. 64k or 1m"),
  flag("--timeout-ms below 100", ["imbalance", "--timeout-ms", "99"], "bad --timeout-ms 99; allowed: an integer from 100 to 86400000"),
  flag("--scenario empty", ["stress", "--scenario", ""], "bad --scenario ''; allowed: a bundled scenario's name or a scenario file's path"),
  flag("--scenario for run", ["run", badFixture("custom-throws-inside.json"), "--scenario", "x.json"], "run: give the scenario as the argument, not with --scenario"),
  flag("randread --iodepths 0", ["randread", "--iodepths", "1,0"], "bad --iodepths 1,0 (0 is not allowed); allowed: a list of distinct integers from 1 to 1024, e.g. 1,16"),
  flag("randread --iodepths 1025", ["randread", "--iodepths", "1025"], "bad --iodepths 1025; allowed: a list of distinct integers from 1 to 1024, e.g. 1,16"),
  flag("randread --iodepths with an empty item", ["randread", "--iodepths", "1,,4"], "bad --iodepths 1,,4 (an empty item); allowed: a list of distinct integers from 1 to 1024, e.g. 1,16"),
  flag("randread --block-sizes 3000", ["randread", "--block-sizes", "4k,3000"], "bad --block-sizes 4k,3000 (3000 is not allowed); allowed: a list of distinct multiples of 512 bytes up to 16m, e.g. 4k,128k"),
  flag("randread --block-sizes 4g", ["randread", "--block-sizes", "4g"], "bad --block-sizes 4g; allowed: a list of distinct multiples of 512 bytes up to 16m, e.g. 4k,128k"),
  flag("randread --duration-ms 5", ["randread", "--duration-ms", "5"], "bad --duration-ms 5; allowed: an integer from 10 to 600000"),
  flag("stress --rounds 0", ["stress", "--rounds", "0"], "bad --rounds 0; allowed: an integer from 1 to 10000"),
  flag("stress --rounds 1e3", ["stress", "--rounds", "1e3"], "bad --rounds 1e3; allowed: an integer from 1 to 10000"),
  flag("run without a file", ["run"], "run: missing the SCENARIO file; see 'coropool run --help'"),
  flag("run with a directory", ["run", "scenarios"], "scenarios: cannot read the scenario file (it is a directory)"),
  flag("run with a file that is not there", ["run", "no-such.json", "--report", REPORT], "no-such.json: cannot read the scenario file (no such file)"),
  flag("replay without --policy", ["replay", "x.trace"], `replay: missing --policy; allowed: ${POLICIES} or a list of them`),
  flag("replay without a file", ["replay", "--policy", "legacy"], "replay: missing the trace FILE; see 'coropool replay --help'"),
  flag("replay of a file that is not there", ["replay", "no-such.trace", "--policy", "legacy"], "cannot read trace 'no-such.trace': ENOENT; give the path of a readable trace file"),
  flag("--report to a folder", ["imbalance", "--report", TMP], `cannot write --report '${TMP}': it is a folder; give a writable file path`),

  // ------------------------------------------------------------ scenario files
  inTmp("a scenario that is not JSON", ["run", tmpFile("not-json.json", '{\n  "kind": randread\n}\n')], /^not-json\.json: not valid JSON \([^\n]+\)$/),
  inTmp("a scenario with a bad control character", ["run", tmpFile("control.json", '{\n  "kind": "rand\u0001read"\n}\n')], "control.json: not valid JSON (Bad control character in string literal at line 2, column 16)"),
  inTmp("a scenario that is a list", ["run", tmpFile("list.json", "[1, 2]")], 'list.json: [1,2] is not allowed; allowed: a JSON object with a "kind" field'),
  inTmp("a scenario without kind", ["run", scenarioFile("no-kind.json", STRESS, { kind: undefined })], 'no-kind.json: kind: missing; allowed: one of "vma-exhaustion", "imbalance", "randread", "custom", "burst-idle"'),
  inTmp("an unknown kind", ["run", scenarioFile("kind.json", STRESS, { kind: "fio" })], 'kind.json: kind: "fio" is not allowed; allowed: one of "vma-exhaustion", "imbalance", "randread", "custom", "burst-idle"'),
  inTmp("an imbalance scenario for stress", ["stress", "--scenario", scenarioFile("imbalance.json", IMBALANCE), "--report", REPORT], "stress: the scenario is of kind 'imbalance'; stress needs kind 'vma-exhaustion' (or use 'coropool run FILE')"),
  inTmp("a stress scenario for randread", ["randread", "--scenario", scenarioFile("stress.json", STRESS)], "randread: the scenario is of kind 'vma-exhaustion'; randread needs kind 'randread' (or use 'coropool run FILE')"),
  inTmp("a randread scenario for imbalance", ["imbalance", "--scenario", scenarioFile("randread.json", RANDREAD)], "imbalance: the scenario is of kind 'randread'; imbalance needs kind 'imbalance' (or use 'coropool run FILE')"),
  inTmp("an unknown field", ["run", scenarioFile("unknown.json", STRESS, { iothreads: 4 })], `unknown.json: iothreads: unknown field; allowed fields for kind "vma-exhaustion": ${STRESS_FIELDS}`),
  inTmp("an unknown field with a newline in its name", ["run", scenarioFile("unknown-newline.json", RANDREAD, { "dur\nation": 5 })], 'unknown-newline.json: ["dur\\nation"]: unknown field; allowed fields for kind "randread": kind, description, threads, blockSizes, iodepths, durationMs, device, seed'),
  inTmp("an unknown device field", ["run", scenarioFile("queues.json", STRESS, device({ queues: 4 }))], "queues.json: guest.devices[0].queues: unknown field; allowed fields: name, numQueues, queueSize, iothreads"),
  inTmp("guest missing", ["run", scenarioFile("no-guest.json", STRESS, { guest: undefined })], "no-guest.json: guest: missing; allowed: an object with iothreads, mainLoop and devices"),
  inTmp("guest.iothreads 65", ["run", scenarioFile("iothreads.json", STRESS, guest({ iothreads: 65 }))], "iothreads.json: guest.iothreads: 65 is not allowed; allowed: an integer from 1 to 64"),
  inTmp("guest.devices empty", ["run", scenarioFile("no-devices.json", STRESS, guest({ devices: [] }))], "no-devices.json: guest.devices: [] is not allowed; allowed: a list of 1 to 32 devices"),
  inTmp("33 devices", ["run", scenarioFile("devices.json", STRESS, guest({ devices: Array.from({ length: 33 }, () => ({ numQueues: 1 })) }))], /^devices\.json: guest\.devices: \[\{"numQueues":1\},.*… is not allowed; allowed: a list of 1 to 32 devices$/),
  inTmp("numQueues 1025", ["run", scenarioFile("num-queues.json", STRESS, device({ numQueues: 1025 }))], "num-queues.json: guest.devices[0].numQueues: 1025 is not allowed; allowed: an integer from 1 to 1024"),
  inTmp("queueSize 300", ["run", scenarioFile("queue-size.json", STRESS, device({ queueSize: 300 }))], "queue-size.json: guest.devices[0].queueSize: 300 is not allowed; allowed: a power of two from 4 to 1024"),
  inTmp("a device served by IOThread 4 of 4", ["run", scenarioFile("device-iothread.json", STRESS, device({ iothreads: [0, 4] }))], "device-iothread.json: guest.devices[0].iothreads[1]: 4 is not allowed; allowed: an IOThread index from 0 to 3 (guest.iothreads is 4)"),
  inTmp("a device served by IOThread -1", ["run", scenarioFile("device-iothread-neg.json", STRESS, device({ iothreads: [-1] }))], "device-iothread-neg.json: guest.devices[0].iothreads[0]: -1 is not allowed; allowed: an IOThread index from 0 to 3 (guest.iothreads is 4)"),
  inTmp("two devices of one name", ["run", scenarioFile("names.json", STRESS, guest({ devices: [{ name: "d", numQueues: 1 }, { name: "d", numQueues: 1 }] }))], 'names.json: guest.devices[1].name: "d" is not allowed; allowed: a name no other device has (guest.devices[0] has it)'),
  inTmp("a device named as another's default", ["run", scenarioFile("default-name.json", STRESS, guest({ devices: [{ name: "disk1", numQueues: 1 }, { numQueues: 1 }] }))], 'default-name.json: guest.devices[0].name: "disk1" is not allowed; allowed: a name no other device has (guest.devices[1] has it by default)'),
  inTmp("rounds 10001", ["run", scenarioFile("rounds.json", STRESS, { rounds: 10001 })], "rounds.json: rounds: 10001 is not allowed; allowed: an integer from 1 to 10000"),
  inTmp("inFlight.min 0", ["run", scenarioFile("in-flight.json", STRESS, { inFlight: { min: 0, max: 0.5 } })], "in-flight.json: inFlight.min: 0 is not allowed; allowed: a fraction greater than 0 and at most 1"),
  inTmp("inFlight.max below min", ["run", scenarioFile("in-flight-max.json", STRESS, { inFlight: { min: 0.5, max: 0.25 } })], "in-flight-max.json: inFlight.max: 0.25 is not allowed; allowed: a fraction from 0.5 (inFlight.min) to 1"),
  inTmp("mainLoopInFlight past 2^20", ["run", scenarioFile("main-loop.json", STRESS, { mainLoopInFlight: 1048577 })], "main-loop.json: mainLoopInFlight: 1048577 is not allowed; allowed: an integer from 0 to 1048576"),
  inTmp("maxMapCount 0", ["run", scenarioFile("max-map-count.json", STRESS, { maxMapCount: 0 })], "max-map-count.json: maxMapCount: 0 is not allowed; allowed: null (the host's vm.max_map_count) or an integer from 1 to 2147483647"),
  inTmp("seed -1", ["run", scenarioFile("seed.json", IMBALANCE, { seed: -1 })], "seed.json: seed: -1 is not allowed; allowed: an integer from 0 to 4294967295"),
  inTmp("seed as a string", ["run", scenarioFile("seed-text.json", RANDREAD, { seed: "7" })], 'seed-text.json: seed: "7" is not allowed; allowed: an integer from 0 to 4294967295'),
  inTmp("imbalance threads 1", ["run", scenarioFile("threads.json", IMBALANCE, { threads: 1 })], "threads.json: threads: 1 is not allowed; allowed: an integer from 2 to 64 (the bursting thread and at least one other)"),
  inTmp("imbalance burstThread = threads", ["run", scenarioFile("burst-thread.json", IMBALANCE, { burstThread: 4 })], "burst-thread.json: burstThread: 4 is not allowed; allowed: an integer from 0 to 3 (less than threads, 4)"),
  inTmp("imbalance burst 0", ["run", scenarioFile("burst.json", IMBALANCE, { burst: 0 })], "burst.json: burst: 0 is not allowed; allowed: an integer from 1 to 1048576"),
  inTmp("imbalance poolSizeIncrease past the largest guest's", ["run", scenarioFile("increase.json", IMBALANCE, { poolSizeIncrease: 16777217 })], "increase.json: poolSizeIncrease: 16777217 is not allowed; allowed: an integer from 0 to 16777216"),
  inTmp("randread iodepth 1025", ["run", scenarioFile("iodepths.json", RANDREAD, { iodepths: [1, 1025] })], "iodepths.json: iodepths[1]: 1025 is not allowed; allowed: an integer from 1 to 1024"),
  inTmp("randread iodepth twice", ["run", scenarioFile("iodepths-twice.json", RANDREAD, { iodepths: [8, 8] })], "iodepths-twice.json: iodepths[1]: 8 is not allowed; allowed: no duplicates (the same as iodepths[0])"),
  inTmp("randread block size 1000", ["run", scenarioFile("block-sizes.json", RANDREAD, { blockSizes: ["4k", 1000] })], 'block-sizes.json: blockSizes[1]: 1000 is not allowed; allowed: a multiple of 512 bytes from 512 to 16m, as an integer of bytes or a string like "4k", "128k", "1m"'),
  inTmp("randread durationMs 5", ["run", scenarioFile("duration.json", RANDREAD, { durationMs: 5 })], "duration.json: durationMs: 5 is not allowed; allowed: an integer from 10 to 600000"),
  inTmp("randread bandwidth 0", ["run", scenarioFile("bandwidth.json", RANDREAD, { device: { bandwidthMBps: 0 } })], "bandwidth.json: device.bandwidthMBps: 0 is not allowed; allowed: a number greater than 0 and at most 1000000"),
  inTmp("custom threads 65", ["run", scenarioFile("custom-threads.json", CUSTOM, { threads: 65 })], "custom-threads.json: threads: 65 is not allowed; allowed: an integer from 1 to 64"),
  inTmp("custom options not an object", ["run", scenarioFile("custom-options.json", CUSTOM, { options: [1] })], "custom-options.json: options: [1] is not allowed; allowed: a JSON object (passed to the workload as is)"),
  flag("custom module missing", ["run", badFixture("custom-module-missing.json"), "--report", REPORT], `${badFixture("custom-module-missing.json")}: module: "workloads/not-there.mjs" is not allowed; allowed: the path of an existing module file, relative to the scenario file (nothing at ${workloadPath("not-there.mjs")})`),

  // ------------------------------------------------------------ trace lines
  inTmp("an event before 'threads'", replay("before.trace", "# a trace\ninc 4\nthreads 2\n"), "before.trace:2: 'inc' before the 'threads N' line; the first event line must be 'threads N'"),
  inTmp("'threads' twice", replay("twice.trace", "threads 2\ncreate T0 a\n\nthreads 3\n"), "twice.trace:4: 'threads' given again; it must appear exactly once"),
  inTmp("threads 0", replay("threads-0.trace", "  threads 0  # none\n"), "threads-0.trace:1: bad thread count '0'; allowed: an integer from 1 to 4096"),
  inTmp("threads 4097", replay("threads-4097.trace", "threads 4097\n"), "threads-4097.trace:1: bad thread count '4097'; allowed: an integer from 1 to 4096"),
  inTmp("an unknown event", replay("unknown.trace", "threads 2\ncreate T0 a\nyield T0 a\n"), "unknown.trace:3: unknown event 'yield'; allowed: threads, inc, dec, create, terminate, exit"),
  inTmp("an event with a word too many", replay("extra.trace", "threads 2\nexit T0 now\n"), "extra.trace:2: 'exit' takes 1 argument (exit T<i>), got 2"),
  inTmp("an event with a word missing", replay("missing.trace", "threads 2\n\ncreate T1\n"), "missing.trace:3: 'create' takes 2 arguments (create T<i> <name>), got 1"),
  inTmp("an amount that is no number", replay("amount.trace", "threads 1\ninc 10\ndec ten\n"), "amount.trace:3: bad amount 'ten' for dec; allowed: an integer from 0 to 4294967295"),
  inTmp("an amount past 32 bits", replay("amount-big.trace", "threads 1\ninc 4294967296\n"), "amount-big.trace:2: bad amount '4294967296' for inc; allowed: an integer from 0 to 4294967295"),
  inTmp("a thread without its T", replay("thread-word.trace", "threads 2\ncreate 1 a\n"), "thread-word.trace:2: bad thread '1'; allowed: T0 to T1"),
  inTmp("a thread past the count", replay("thread-range.trace", "threads 2\ncreate T0 a\nterminate T2 a\n"), "thread-range.trace:3: bad thread 'T2'; allowed: T0 to T1"),
  inTmp("a create of a live name", replay("live.trace", "threads 1\ncreate T0 a\ncreate T0 a\n"), "live.trace:3: create of 'a', which is already live; a name may be reused only after its terminate"),
  inTmp("a terminate of a name not live", replay("not-live.trace", "threads 1\ncreate T0 a\nterminate T0 a\nterminate T0 a\n"), "not-live.trace:4: terminate of 'a', which is not live; terminate only a coroutine that was created and not yet terminated"),
  inTmp("a name with a control character", replay("control.trace", "threads 1\nterminate T0 a\u001b[2Jb\n"), "control.trace:2: terminate of 'a\\u001b[2Jb', which is not live; terminate only a coroutine that was created and not yet terminated"),
  inTmp("no 'threads' line at all", replay("empty.trace", "# only a comment\n\n"), "empty.trace:2: no 'threads N' line up to the end of the file; a trace must declare its threads first"),
  inTmp("an error in a CRLF trace", replay("crlf.trace", "threads 2\r\ncreate T0 a\r\nterminate T0 b\r\n"), "crlf.trace:3: terminate of 'b', which is not live; terminate only a coroutine that was created and not yet terminated"),

  // ------------------------------------------------------------ custom workload modules
  flag("a module whose coroutines() throws", ["run", badFixture("custom-coroutines-throws.json")], `custom workload '${workloadPath("coroutines-throws.mjs")}': coroutines() failed on T0: no arguments today; it must return an iterable of arguments`),
  flag("randread --iodepths with a depth twice", ["randread", "--iodepths", "1,8,1"], "bad --iodepths 1,8,1 (1 twice); allowed: a list of distinct integers from 1 to 1024, e.g. 1,16"),
  flag("randread --block-sizes with a size twice", ["randread", "--block-sizes", "4k,4096"], "bad --block-sizes 4k,4096 (4096 twice); allowed: a list of distinct multiples of 512 bytes up to 16m, e.g. 4k,128k"),
  flag("a module that throws on load", ["run", badFixture("custom-throws-on-load.json"), "--report", REPORT], `custom workload '${workloadPath("throws-on-load.mjs")}' failed to load: cannot open /dev/nvme9: no such device`),
  flag("a module that throws two lines of text on load", ["run", badFixture("custom-throws-text-on-load.json")], `custom workload '${workloadPath("throws-text-on-load.mjs")}' failed to load: first line of the reason`),
  flag("a module that throws an object without a prototype", ["run", badFixture("custom-throws-bare-object-on-load.json")], `custom workload '${workloadPath("throws-bare-object-on-load.mjs")}' failed to load: a value that cannot be turned into text`),
  flag("a module that is not valid JavaScript", ["run", badFixture("custom-syntax-error.json")], `custom workload '${workloadPath("syntax-error.mjs")}' failed to load: Unexpected end of input`),
  ...(
    [
      ["no default export", "no-default", "no default export object"],
      ["a default export that is a number", "default-number", "no default export object"],
      ["no coroutines function", "no-coroutines", "'coroutines' is not a function"],
      ["an async generator as coroutine", "async-coroutine", "'coroutine' is not a generator function (function*)"],
      ["a default export that throws when read", "trap-default", "reading its default export threw: no property coroutines here"],
    ] as const
  ).map(([what, name, why]) =>
    flag(
      `a module with ${what}`,
      ["run", badFixture(`custom-${name}.json`)],
      `custom workload '${workloadPath(`${name}.mjs`)}': ${why}; the default export must be { coroutines(ctx), *coroutine(arg, api) } (see scenarios/README.md)`,
    ),
  ),
];

/** Bad input: status 2, nothing on stdout, one "coropool: " line on stderr, no stack trace. */
function expectRefused(r: CliRun, message: string | RegExp): void {
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stdout).toBe("");
  expect(r.code).toBe(2);
  expect(r.stderr.endsWith("\n")).toBe(true);
  const lines = r.stderr.slice(0, -1).split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^coropool: /);
  const text = lines[0]!.slice("coropool: ".length);
  if (typeof message === "string") expect(text).toBe(message);
  else expect(text).toMatch(message);
}

describe("every bad input answered: exit 2, one line naming the value and what is allowed", () => {
  it(`has at least 40 bad inputs (${BAD_INPUTS.length})`, () => {
    expect(BAD_INPUTS.length).toBeGreaterThanOrEqual(40);
    expect(new Set(BAD_INPUTS.map((b) => b.what)).size).toBe(BAD_INPUTS.length);
  });

  // In this process through main() (the same code, without Node's start per line); test/cli-runtime.test.ts and
  // test/harden.test.ts check the real process's one line, status and lack of a stack trace on spawned commands.
  it.each(BAD_INPUTS.map((b) => [b.what, b] as const))("%s", async (_what, bad) => {
    const r = await runMain(bad.args, bad.cwd === "tmp" ? { cwd: TMP } : {});
    expectRefused(r, bad.message);
    // Refused means nothing written: the --report of a refused run never appears.
    expect(existsSync(REPORT)).toBe(false);
  });
});

describe("not bad input", () => {
  it("a trace with CRLF line endings replays as the same trace with LF", () => {
    const lines = ["# CRLF", "threads 2", "inc 8", "create T0 a", "create T1 b", "terminate T1 a  # on T1", "terminate T0 b", "exit T1"];
    const crlf = runCli(replay("ok-crlf.trace", lines.join("\r\n") + "\r\n").concat("--json"), { ...SPAWN, cwd: TMP });
    const lf = runCli(replay("ok-lf.trace", lines.join("\n") + "\n").concat("--json"), { ...SPAWN, cwd: TMP });
    expect(crlf.stderr).toBe("");
    expect(crlf.code).toBe(0);
    expect(crlf.stdout).toBe(lf.stdout);
    expect(JSON.parse(crlf.stdout)).toMatchObject({ policy: "legacy", events: 6, stacksCreated: 2, live: 0, failure: null });
  });

  it("a coroutine that throws a value that cannot become a string: reported for that coroutine, the run goes on", () => {
    const r = runCli(["run", badFixture("custom-throws-bare-object-inside.json"), "--policy", "batched", "--baseline-vmas", "100", "--max-map-count", "100000", "--allow-failures"], SPAWN);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("batched: T0 coroutine 1 threw: a value that cannot be turned into text\n");
    expect(r.stdout).toMatch(/^VMAs back to baseline +yes$/m);
  });

  it("a coroutine that throws inside the workload: a per-coroutine failure report, exit 0 with --allow-failures, counters back to baseline", () => {
    const args = ["run", badFixture("custom-throws-inside.json"), "--policy", "legacy,batched,none", "--baseline-vmas", "100", "--max-map-count", "100000", "--allow-failures"];
    const text = runCli(args, SPAWN);
    expect(text.stderr).toBe("");
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^completed +6 +6 +6$/m);
    expect(text.stdout).toMatch(/^failed \(body threw\) +6 +6 +6$/m);
    expect(text.stdout).toMatch(/^VMAs back to baseline +yes +yes +yes$/m);
    expect(text.stdout).toMatch(/^outcome +completed +completed +completed$/m);
    for (const policy of ["legacy", "batched", "none"]) {
      for (const t of [0, 1]) {
        expect(text.stdout).toContain(`${policy}: T${t} coroutine 1 threw: coroutine 1 failed at once on T${t}\n`);
        expect(text.stdout).toContain(`${policy}: T${t} coroutine 2 threw: coroutine 2 failed after a yield on T${t}\n`);
        expect(text.stdout).toContain(`${policy}: T${t} coroutine 4 threw: plain text from coroutine 4`);
      }
    }

    const json = runCli([...args, "--json"], SPAWN);
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout) as { runs: JsonRun[] };
    expect(doc.runs.map((r) => r.policy)).toEqual(["legacy", "batched", "none"]);
    for (const run of doc.runs) {
      expect(run).toMatchObject({ completed: true, abort: null, deadThreads: [], invariantViolations: [] });
      expect(run.vmas).toMatchObject({ baseline: 100, final: 100, backToBaseline: true });
      expect(run.stacks.created).toBe(run.stacks.freed);
      expect(run.stacks.liveAtEnd).toBe(0);
      expect(run.parts.map((p) => [p.coroutines, p.completed, p.failed])).toEqual([[6, 3, 3], [6, 3, 3]]);
      for (const [t, part] of run.parts.entries()) {
        expect(part.failures).toEqual([
          { index: 1, message: `coroutine 1 failed at once on T${t}` },
          { index: 2, message: `coroutine 2 failed after a yield on T${t}` },
          { index: 4, message: "plain text from coroutine 4" },
        ]);
      }
    }
  });
});

interface JsonRun {
  policy: string;
  completed: boolean;
  stacks: { created: number; freed: number; liveAtEnd: number };
  vmas: { baseline: number; final: number; backToBaseline: boolean };
  parts: { coroutines: number; completed: number; failed: number; failures: { index: number; message: string }[] }[];
}
