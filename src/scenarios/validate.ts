/**
 * Scenario files: JSON text in, a checked Scenario with every default filled
 * out. Nothing runs on a file that is not entirely valid, and every rejection
 * is one line a user can act on (./refusal.ts). The rules are each kind's
 * (./registry.ts), published as docs/scenario.schema.json and enforced with
 * ajv, plus the checks a schema cannot express (./schema-check.ts).
 *
 * Defaults for optional fields (also in scenarios/README.md and the schema):
 *   every kind      description "", seed 1
 *   vma-exhaustion  rounds 6, inFlight {min 0.5, max 0.75}, mainLoopInFlight 64,
 *                   maxMapCount null (the host's vm.max_map_count);
 *                   guest.mainLoop true; device name "disk<i>", queueSize 256,
 *                   iothreads all of the guest's IOThreads
 *   imbalance       burstThread 0, rounds 10, poolSizeIncrease 0, maxMapCount null
 *   randread        threads 1, blockSizes ["4k","128k"], iodepths [1,8,16,32,64],
 *                   durationMs 1000, device {latencyUs 7.31, bandwidthMBps 2300}
 *   custom          threads 1, options {}, maxMapCount null
 *   burst-idle      burstThreads 1, bursts 3, quietMs 1000, rounds 20,
 *                   poolSizeIncrease 0, maxMapCount null
 */
import { FILE_WITHOUT_KIND } from "./common-fields.js";
import { isPlainObject, type ObjectRule } from "./field-rules.js";
import { scenarioError } from "./refusal.js";
import { checkScenarioLocation, scenarioFileRules } from "./registry.js";
import { parseScenarioJson, readScenarioText } from "./scenario-file.js";
import { firstRefusal } from "./schema-check.js";
import { SCENARIO_KINDS, type Scenario, type ScenarioKind } from "./types.js";

export { SCENARIO_ERROR } from "./refusal.js";
export {
  DEFAULT_DESCRIPTION,
  DEFAULT_SEED,
  DEFAULT_THREADS,
  MAX_COROUTINES_PER_THREAD,
  MAX_MAX_MAP_COUNT,
  MAX_ROUNDS,
  MAX_SEED,
  MAX_THREADS,
} from "./common-fields.js";
export { DEFAULT_QUEUE_SIZE, MAX_DEVICES, MAX_NUM_QUEUES, MAX_QUEUE_SIZE, MIN_QUEUE_SIZE } from "./guest.js";
export { DEFAULT_MAIN_LOOP_IN_FLIGHT, DEFAULT_STRESS_IN_FLIGHT, DEFAULT_STRESS_ROUNDS } from "./stress/rules.js";
export { DEFAULT_IMBALANCE_ROUNDS, MAX_POOL_SIZE_INCREASE, MIN_IMBALANCE_THREADS } from "./imbalance/rules.js";
export { DEFAULT_BURST_IDLE_ROUNDS, DEFAULT_BURSTS, DEFAULT_BURST_THREADS, DEFAULT_QUIET_MS, MAX_QUIET_MS, MIN_BURST_IDLE_THREADS } from "./burst-idle/rules.js";
export {
  DEFAULT_RANDREAD_BLOCK_SIZES,
  DEFAULT_RANDREAD_DURATION_MS,
  DEFAULT_RANDREAD_IODEPTHS,
  MAX_BANDWIDTH_MBPS,
  MAX_BLOCK_SIZE,
  MAX_DURATION_MS,
  MAX_IODEPTH,
  MAX_LATENCY_US,
  MIN_DURATION_MS,
  SECTOR_SIZE,
} from "./randread/rules.js";
/** The device model's defaults are derived (from the seed's fio table) where the model lives. */
export { DEFAULT_DEVICE_MODEL } from "./randread/device.js";

/** Checks a scenario file's text; `source` names it in messages. */
export function parseScenario(text: string, source: string): Scenario {
  return checkScenario(parseScenarioJson(text, source), source);
}

/**
 * Reads and checks a scenario file, with the checks that need its place on
 * disk (a custom scenario's module must exist, relative to the file).
 */
export function loadScenarioFile(path: string): Scenario {
  const scenario = parseScenario(readScenarioText(path), path);
  checkScenarioLocation(scenario, path);
  return scenario;
}

/**
 * Checks a scenario given as a value (a program's object) as a file would be
 * checked; `source` names it in messages, and a custom module's relative path
 * is taken from `source`'s folder.
 */
export function checkScenarioValue(value: unknown, source: string): Scenario {
  const scenario = checkScenario(value, source);
  checkScenarioLocation(scenario, source);
  return scenario;
}

/** The file's first refusal is the error; a valid file is read with its kind's defaults. */
function checkScenario(value: unknown, source: string): Scenario {
  const rules = kindRules(value);
  const refusal = firstRefusal(value, rules);
  if (refusal !== null) throw scenarioError(source, refusal.path, refusal.what);
  return rules.read(value, { root: value, path: [] }) as Scenario;
}

/** `kind` first: which other fields are known depends on it. */
function kindRules(value: unknown): ObjectRule {
  if (!isPlainObject(value) || !SCENARIO_KINDS.includes(value["kind"] as ScenarioKind)) return FILE_WITHOUT_KIND;
  return scenarioFileRules(value["kind"] as ScenarioKind);
}
