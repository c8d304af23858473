import type { Coroutine } from "../../coroutine/index.js";
import { InputError, VmaExhaustedError } from "../../errors.js";
import { describeThrown } from "../../message-text.js";
import type { ThreadEnv } from "../../runtime/thread-env.js";
import { sampleResult } from "./sample-result.js";
import { loadWorkload, type Workload, type WorkloadApi } from "./workload.js";

/** One thread's share of a custom run: the module (loaded by the worker, never the main thread) and its options. */
export interface CustomPart {
  kind: "custom";
  modulePath: string;
  options: Record<string, unknown>;
  seed: number;
}

export interface CustomPartResult {
  coroutines: number;
  completed: number;
  /** Coroutines whose body threw: the coroutine ends, its stack goes back, the run goes on. */
  failed: number;
  failures: { index: number; message: string }[];
  /** Passes of the runner over the coroutines still suspended. */
  passes: number;
  /**
   * The first few return values, for a look at what the workload did: each at
   * most MAX_SAMPLE_RESULT_BYTES of JSON. One whose JSON is longer (a huge
   * string, a cycle, a deep chain) is kept as the beginning of its JSON text,
   * a string, and its index listed in `cutSampleResults`.
   */
  sampleResults: unknown[];
  /** Indexes into `sampleResults` of the values cut; absent when none was. */
  cutSampleResults?: number[];
  /**
   * Coroutines not started because the run aborted on VMA exhaustion first
   * (QEMU would have died): `coroutines` + `notStarted` is what coroutines() gave.
   */
  notStarted: number;
  /**
   * `coroutines()` threw, gave no iterable, or gave more than
   * MAX_COROUTINES_PER_THREAD arguments: the module's fault, reported as bad
   * input (the sentence, without the module's name).
   */
  setupError?: string;
  /**
   * The module failed to load or is not a workload: the whole InputError
   * message, which the caller throws in place of the run's result (so it is
   * never in a document).
   */
  loadError?: string;
}

const MAX_REPORTED = 10;

/**
 * Arguments one thread's coroutines() may give (README, scenarios/README.md):
 * an endless or huge iterator stops here as bad input instead of filling the
 * worker's memory.
 */
export const MAX_COROUTINES_PER_THREAD = 1_000_000;

/**
 * Workload modules this worker has imported, by path (a worker runs many parts
 * of one module), or the refusal of one that is bad (tried again next time).
 */
const loadedWorkloads = new Map<string, Workload | InputError>();

/**
 * Imports the part's module on this worker, after it claimed its thread and
 * before the run starts. A bad module is kept as its refusal, for the part
 * to report: the thread still meets the others at the start.
 */
export async function prepareCustomPart(part: CustomPart): Promise<void> {
  const known = loadedWorkloads.get(part.modulePath);
  if (known !== undefined && !(known instanceof InputError)) return;
  loadedWorkloads.set(part.modulePath, await loadWorkload(part.modulePath).catch(refusalOnly));
}

/** A bad module's InputError as a value; anything else is this worker's failure. */
function refusalOnly(err: unknown): InputError {
  if (err instanceof InputError) return err;
  throw err;
}

/** Runs the part with the module prepareCustomPart imported, or reports why it was refused. */
export function runPreparedCustomPart(env: ThreadEnv, part: CustomPart): CustomPartResult {
  const workload = loadedWorkloads.get(part.modulePath);
  if (workload === undefined) throw new Error(`custom part run before its module '${part.modulePath}' was prepared`);
  if (workload instanceof InputError) return { ...emptyResult(), loadError: workload.message };
  return runCustomPart(env, part, workload);
}

function emptyResult(): CustomPartResult {
  return { coroutines: 0, completed: 0, failed: 0, failures: [], passes: 0, sampleResults: [], notStarted: 0 };
}

/**
 * Creates one coroutine per argument the workload gives this thread, enters
 * each, then keeps re-entering the suspended ones in turn until all ended.
 */
export function runCustomPart(env: ThreadEnv, part: CustomPart, workload: Workload): CustomPartResult {
  const ctx = env.coroutines;
  const api: WorkloadApi = { thread: env.thread, threads: env.threads, ctx };
  const result = emptyResult();
  const record = (value: unknown) => {
    result.completed++;
    if (result.sampleResults.length < MAX_REPORTED) keepSample(result, value);
  };
  function* body(arg: unknown): Generator<unknown, void, unknown> {
    record(yield* workload.coroutine(arg, api));
  }
  let args: unknown[];
  try {
    args = boundedArguments(workload.coroutines({ thread: env.thread, threads: env.threads, options: part.options, seed: part.seed }));
  } catch (err) {
    const setupError =
      err instanceof TooManyArguments
        ? `coroutines() on T${env.thread} gave more than ${MAX_COROUTINES_PER_THREAD} arguments; allowed: at most ${MAX_COROUTINES_PER_THREAD} coroutines per thread`
        : `coroutines() failed on T${env.thread}: ${describeThrown(err)}; it must return an iterable of arguments`;
    return { ...result, setupError };
  }
  let suspended: { co: Coroutine; index: number }[] = [];
  for (let index = 0; index < args.length && !env.aborted(); index++) {
    let co: Coroutine | null = null;
    if (!env.tryCreate(() => (co = ctx.create(body, args[index])))) break;
    result.coroutines++;
    suspended.push({ co: co!, index });
  }
  result.notStarted = args.length - result.coroutines;
  while (suspended.length > 0) {
    result.passes++;
    suspended = suspended.filter(({ co, index }) => enterOnce(env, co, index, result));
  }
  env.progress();
  return result;
}

/**
 * Keeps a returned value as the result can carry it to the main thread and
 * into JSON, cut here on the worker so a huge value never crosses threads.
 */
function keepSample(result: CustomPartResult, value: unknown): void {
  const { kept, cut } = sampleResult(value);
  if (cut) (result.cutSampleResults ??= []).push(result.sampleResults.length);
  result.sampleResults.push(kept);
}

class TooManyArguments extends Error {}

/** The iterable's values, refusing more than MAX_COROUTINES_PER_THREAD (an endless iterator ends here). */
function boundedArguments(iterable: Iterable<unknown>): unknown[] {
  const args: unknown[] = [];
  for (const arg of iterable) {
    if (args.length === MAX_COROUTINES_PER_THREAD) throw new TooManyArguments();
    args.push(arg);
  }
  return args;
}

/** Enters a coroutine once; true if it is still suspended afterwards. */
function enterOnce(env: ThreadEnv, co: Coroutine, index: number, result: CustomPartResult): boolean {
  try {
    env.coroutines.enter(co);
  } catch (err) {
    // A stack mapping that failed inside the workload (a nested create) is
    // QEMU's abort, not the workload's failure.
    if (err instanceof VmaExhaustedError) {
      env.recordAbort(err);
      return false;
    }
    result.failed++;
    if (result.failures.length < MAX_REPORTED) result.failures.push({ index, message: describeThrown(err) });
    return false;
  }
  return co.state !== "terminated";
}

/**
 * The module's refusal, or else the first thread whose coroutines() failed,
 * as the input error it is (the module's fault); null when neither happened.
 */
export function setupFailure(modulePath: string, parts: readonly unknown[]): InputError | null {
  const results = parts as (CustomPartResult | null)[];
  const refused = results.find((p) => p?.loadError !== undefined);
  if (refused) return new InputError("ERR_WORKLOAD", refused.loadError!);
  const t = results.findIndex((p) => p?.setupError !== undefined);
  if (t < 0) return null;
  return new InputError("ERR_WORKLOAD", `custom workload '${modulePath}': ${results[t]!.setupError}`);
}
