import { pathToFileURL } from "node:url";
import type { CoroutineContext } from "../../coroutine/index.js";
import { InputError } from "../../errors.js";
import { describeThrown } from "../../message-text.js";

/** What a thread's coroutines may use besides their argument. */
export interface WorkloadApi {
  thread: number;
  threads: number;
  /**
   * This thread's coroutine context, for coroutines that create and enter
   * others (nesting): ctx.create(entry, arg), ctx.enter(co), ctx.self(),
   * ctx.inCoroutine(), ctx.entered(co), yield* ctx.yieldNow().
   */
  ctx: CoroutineContext;
}

/** What `coroutines()` is told: which thread asks, of how many, with the scenario's options and seed. */
export interface WorkloadSetup {
  thread: number;
  threads: number;
  options: Record<string, unknown>;
  seed: number;
}

/**
 * A user's workload module: its default export has
 *   coroutines({ thread, threads, options, seed }) -> iterable of arguments,
 *     one coroutine per argument on that thread;
 *   *coroutine(arg, api) -> the body of each coroutine (a generator function):
 *     every `yield` gives the thread back to the runner, which re-enters it
 *     later, as an IOThread re-enters a request when its I/O completes.
 * `Arg` is the type of each coroutine's argument, `Result` of what it returns.
 */
export interface Workload<Arg = unknown, Result = unknown> {
  coroutines(setup: WorkloadSetup): Iterable<Arg>;
  coroutine(arg: Arg, api: WorkloadApi): Generator<unknown, Result, unknown>;
}

const GeneratorFunction = Object.getPrototypeOf(function* () {}).constructor as FunctionConstructor;

/** Imports and checks a workload module; any failure is the user's input to fix (exit 2). */
export async function loadWorkload(path: string): Promise<Workload> {
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(path).href)) as { default?: unknown };
  } catch (err) {
    throw new InputError("ERR_WORKLOAD", `custom workload '${path}' failed to load: ${describeThrown(err)}`);
  }
  return checkWorkload(path, mod.default);
}

function checkWorkload(path: string, w: unknown): Workload {
  const fail = (what: string) =>
    new InputError("ERR_WORKLOAD", `custom workload '${path}': ${what}; the default export must be { coroutines(ctx), *coroutine(arg, api) } (see scenarios/README.md)`);
  if (typeof w !== "object" || w === null) throw fail("no default export object");
  let coroutines: unknown;
  let coroutine: unknown;
  try {
    ({ coroutines, coroutine } = w as Record<string, unknown>);
  } catch (err) {
    // A getter or a Proxy in the module threw: still the module's fault, not ours.
    throw fail(`reading its default export threw: ${describeThrown(err)}`);
  }
  if (typeof coroutines !== "function") throw fail("'coroutines' is not a function");
  if (!(coroutine instanceof GeneratorFunction)) throw fail("'coroutine' is not a generator function (function*)");
  return w as Workload;
}
