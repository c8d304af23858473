/**
 * The same-thread lifecycle (create, enter, terminate on one thread: the
 * micro suite's `lifecycle`) of every policy in this build against an older
 * build, side by side in one process:
 *
 *   npm run bench -- against /path/to/older/dist
 *
 * The older build is loaded by path (its own bench/fixture.js and the src it
 * imports, with the node_modules beside it), so both run in one V8 with
 * their own code and their own type feedback. Each round measures every
 * policy A B B A (A = older, B = this build; the next round B A A B), so
 * drift over the run and the slot a task runs in hit both alike; a task
 * loops OPS_PER_CALL lifecycles inside one call. ns/op is the median of a
 * side's per-task medians over all rounds, and the best of them beside it.
 */
import { existsSync, statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { POLICY_NAMES } from "../../src/pools/index.js";
import { poolFixture } from "../fixture.js";
import { markdownTable, measure, median, ns, OPS_PER_CALL, ratio, type BenchSettings } from "../measure.js";

/** What the lifecycle uses of a build's coroutine context. */
interface LifecycleContext {
  create(entry: () => Generator<undefined, void, unknown>): unknown;
  enter(co: unknown): unknown;
}

/** What the suite needs of a build: its fixture and its policies' names. */
interface Build {
  poolFixture: (policy: string) => { ctx: LifecycleContext };
  policyNames: readonly string[];
}

/** Rounds of A B B A per policy (quick: one). */
const ROUNDS = 6;

function* empty(): Generator<undefined, void, unknown> {}

/** The two files of an older dist the suite loads; a one-line reason when `dist` is not such a folder, else null. */
export function olderBuildProblem(dist: string): string | null {
  if (!existsSync(dist) || !statSync(dist).isDirectory()) return `bench: against: '${dist}' is not a folder; allowed: the dist folder of an older coropool build`;
  for (const file of ["bench/fixture.js", "src/pools/index.js"]) {
    if (!existsSync(join(dist, file))) return `bench: against: '${dist}' has no ${file}; allowed: the dist folder of an older coropool build (npm run build writes it)`;
  }
  return null;
}

async function loadOlderBuild(dist: string): Promise<Build> {
  const at = (file: string) => pathToFileURL(join(dist, file)).href;
  const fixture = (await import(at("bench/fixture.js"))) as { poolFixture: Build["poolFixture"] };
  const pools = (await import(at("src/pools/index.js"))) as { POLICY_NAMES: readonly string[] };
  return { poolFixture: fixture.poolFixture, policyNames: pools.POLICY_NAMES };
}

/** One task: OPS_PER_CALL lifecycles of a coroutine with an empty body on a one-thread pool of `policy`. */
function lifecycleTask(name: string, build: Build, policy: string) {
  const { ctx } = build.poolFixture(policy);
  return {
    name,
    fn: () => {
      for (let i = 0; i < OPS_PER_CALL; i++) ctx.enter(ctx.create(empty));
    },
  };
}

export async function runAgainst(settings: BenchSettings, olderDist: string): Promise<{ markdown: string }> {
  const dist = isAbsolute(olderDist) ? olderDist : resolve(olderDist);
  const older = await loadOlderBuild(dist);
  const current: Build = { poolFixture: poolFixture as unknown as Build["poolFixture"], policyNames: POLICY_NAMES };
  const policies = POLICY_NAMES.filter((p) => older.policyNames.includes(p));
  const missing = POLICY_NAMES.filter((p) => !older.policyNames.includes(p));
  const rounds = settings.quick ? 1 : ROUNDS;
  const samples = new Map<string, number[]>();
  for (let round = 0; round < rounds; round++) {
    for (const policy of policies) {
      // A B B A, then B A A B: each side first and last in turn.
      const order = round % 2 === 0 ? ["old", "new", "new", "old"] : ["new", "old", "old", "new"];
      const tasks = order.map((side, i) => lifecycleTask(`${side} ${policy} #${i}`, side === "old" ? older : current, policy));
      for (const r of await measure(settings, tasks)) {
        const key = r.name.slice(0, r.name.indexOf(" #"));
        samples.set(key, [...(samples.get(key) ?? []), r.nsPerOp]);
      }
    }
  }
  const rows = policies.map((p) => {
    const old = samples.get(`old ${p}`)!;
    const now = samples.get(`new ${p}`)!;
    const [oldBest, newBest] = [Math.min(...old), Math.min(...now)];
    return [p, ns(median(old)), ns(median(now)), ratio(median(now), median(old)), ns(oldBest), ns(newBest), ratio(newBest, oldBest)];
  });
  const markdown = [
    `Same-thread lifecycle (create, enter, terminate on one thread, as the micro suite's), this build (new) against the build in \`${olderDist}\` (old), in one process: ${rounds} round${rounds === 1 ? "" : "s"} per policy of A B B A / B A A B, each task a loop of ${OPS_PER_CALL.toLocaleString("en")} lifecycles. ns per lifecycle: the median of a side's ${2 * rounds} task medians, and the best of them (on a loaded machine the median moves with the load; the best is the least disturbed figure).`,
    "",
    markdownTable(["policy", "old ns/op", "new ns/op", "new/old", "old best", "new best", "new/old best"], rows),
    ...(missing.length > 0 ? ["", `Not in the older build: ${missing.join(", ")}.`] : []),
  ].join("\n");
  return { markdown };
}
