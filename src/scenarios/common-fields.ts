/**
 * What every kind of scenario file shares: the file's own fields ("$schema",
 * "kind"), the fields several kinds have (description, seed, maxMapCount,
 * threads, rounds), and the limits behind them.
 */
import { SCENARIO_KINDS, type ScenarioKind } from "./types.js";
import { integer, nullOr, object, oneOf, optional, optionalFrom, required, text, value, valueAt, type Field, type ObjectRule, type Place } from "./field-rules.js";

/** Worker threads (IOThreads) one scenario may ask for; the main loop is one more. */
export const MAX_THREADS = 64;
export const MAX_ROUNDS = 10_000;
/**
 * Coroutines one thread may be told to have in flight at once. Far above any
 * real limit's half (65530 / 2), low enough that a typo cannot ask for
 * billions of coroutines.
 */
export const MAX_COROUTINES_PER_THREAD = 1 << 20;
/** vm.max_map_count is a C int. */
export const MAX_MAX_MAP_COUNT = 0x7fffffff;
/** Seeds feed a 32-bit PRNG. */
export const MAX_SEED = 0xffffffff;

export const DEFAULT_DESCRIPTION = "";
export const DEFAULT_SEED = 1;
export const DEFAULT_THREADS = 1;

/** What a whole file must be, in every kind's messages. */
export const FILE_ALLOWED = `a JSON object with a "kind" field`;

const KIND = oneOf(SCENARIO_KINDS, `one of ${SCENARIO_KINDS.map((k) => JSON.stringify(k)).join(", ")}`);
export const KIND_DESCRIPTION =
  "What runs: vma-exhaustion (a guest's bursts on every thread), imbalance (one thread bursts, then goes quiet), " +
  "randread (closed-loop random reads, like fio), custom (your own workload module), or burst-idle (bursts, a quiet period, then load elsewhere). It decides which other fields the file may have.";

/** A file whose kind is missing or unknown: only `kind` can be told about. */
export const FILE_WITHOUT_KIND: ObjectRule = object({ kind: required(KIND, KIND_DESCRIPTION) }, { allowed: FILE_ALLOWED });

const SCHEMA_REFERENCE: Field = optionalFrom(
  text("a string: the path or URL of the file's JSON Schema", false),
  () => undefined,
  `The JSON Schema this file follows, for editors: "../docs/scenario.schema.json" from the bundled scenarios. Not part of the scenario.`,
);

/**
 * A kind's whole file: "$schema" (allowed everywhere, never listed), `kind`,
 * then the kind's fields in the order its messages and scenarios list them.
 */
export function kindFile(kind: ScenarioKind, description: string, fields: Record<string, Field>): ObjectRule {
  return object(
    { kind: required(value({ const: kind }, { allowed: KIND.allowed({ root: null, path: [] }) }), KIND_DESCRIPTION), ...fields },
    { allowed: FILE_ALLOWED, description, metaFields: { $schema: SCHEMA_REFERENCE }, fieldsContext: ` for kind "${kind}"` },
  );
}

export const DESCRIPTION: Field = optional(text("a string", false), DEFAULT_DESCRIPTION, "Free text about the scenario, shown in reports.");

export const SEED: Field = optional(integer(0, MAX_SEED), DEFAULT_SEED, "Seeds everything random in the run, so a run can be repeated exactly.");

export const MAX_MAP_COUNT: Field = optional(
  nullOr(integer(1, MAX_MAX_MAP_COUNT), `null (the host's vm.max_map_count) or an integer from 1 to ${MAX_MAX_MAP_COUNT}`),
  null,
  "The VMA limit the run is held to (vm.max_map_count). null: the host's, read from /proc/sys/vm/max_map_count " +
    "(65530, Linux's default, where it cannot be read). The CLI's --max-map-count overrides it.",
);

export const THREADS = integer(1, MAX_THREADS);

/** The scenario's `threads`, for a rule that depends on it (checked before: the schema orders it first). */
function threadsOf(place: Place): number {
  return valueAt(place.root, ["threads"]) as number;
}

/**
 * A thread index or count that must stay below the scenario's `threads`
 * (some thread must be left for the other role); `allowed` words the range
 * for the scenario's actual thread count.
 */
export function belowThreads(min: number, allowed: (threads: number) => string) {
  return integer(min, MAX_THREADS - 1, {
    allowed: (place) => allowed(threadsOf(place)),
    accepts: (value, place) => typeof value !== "number" || value < threadsOf(place),
  });
}
export const ROUNDS = integer(1, MAX_ROUNDS);
export const COROUTINES = integer(1, MAX_COROUTINES_PER_THREAD);
