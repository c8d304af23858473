/**
 * The demo, the project's main job in one run on real worker threads:
 *   1. the seed's bug report on the host's vm.max_map_count (or a given
 *      limit) under legacy and batched: legacy runs out, batched survives;
 *   2. the imbalance scenario under legacy, batched and none;
 *   3. a short randread table, OLD (legacy) vs NEW (batched);
 *   4. beyond 9.0: the burst-idle scenario under batched and elastic, what
 *      each keeps mapped after a burst and a quiet period.
 */
import { InputError } from "../errors.js";
import type { BurstIdleScenario, ImbalanceScenario, RandreadScenario, Scenario, StressScenario } from "../scenarios/types.js";
import { loadScenarioFile } from "../scenarios/validate.js";
import { readMaxMapCount } from "../vma/limits.js";
import { BUNDLED_SCENARIOS, bundledPath } from "./bundled.js";
import { DEFAULT_BURST_IDLE_POLICIES, DEFAULT_BURST_IDLE_SCENARIO, runBurstIdle, type BurstIdleReport } from "./burst-idle.js";
import { DEFAULT_IMBALANCE_POLICIES, DEFAULT_IMBALANCE_SCENARIO, runImbalance, type ImbalanceReport } from "./imbalance.js";
import type { ExperimentOptions } from "./options.js";
import { DEFAULT_RANDREAD_POLICIES, DEFAULT_RANDREAD_SCENARIO, runRandread, type RandreadReport } from "./randread.js";
import { DEFAULT_STRESS_POLICIES, DEFAULT_STRESS_SCENARIO, runStress, type StressReport } from "./stress.js";

/** Each part runs its own policies; the other options apply to all four. */
export type DemoOptions = Omit<ExperimentOptions, "policies">;

/** The four parts, as the demo's result document holds them. */
export interface DemoParts {
  /** The VMA limit the bug-report part used. */
  maxMapCount: number;
  stress: StressReport;
  imbalance: ImbalanceReport;
  randread: RandreadReport;
  /** Part 4; absent from documents written before it existed. */
  burstIdle?: BurstIdleReport;
}

export interface DemoRun {
  parts: DemoParts;
  /** Where the host's limit was read from, when the options did not set maxMapCount; else null. */
  hostLimitSource: string | null;
}

/** Randread cells kept short so the whole demo stays well under a minute. */
const DEMO_RANDREAD = { iodepths: [1, 16], durationMs: 250 };
/** A quiet period just over two of elastic's decay periods: enough to see it give back, short enough for npm start. */
const DEMO_BURST_IDLE = { quietMs: 600 };

export async function runDemo(options: DemoOptions): Promise<DemoRun> {
  const host = readMaxMapCount();
  const maxMapCount = options.maxMapCount ?? host.value;
  const stressFile = bundledPath(BUNDLED_SCENARIOS, DEFAULT_STRESS_SCENARIO);
  const stress = { ...loadKind<StressScenario>(stressFile, "vma-exhaustion"), maxMapCount };
  const imbalanceFile = bundledPath(BUNDLED_SCENARIOS, DEFAULT_IMBALANCE_SCENARIO);
  const imbalance = loadKind<ImbalanceScenario>(imbalanceFile, "imbalance");
  const randreadFile = bundledPath(BUNDLED_SCENARIOS, DEFAULT_RANDREAD_SCENARIO);
  const randread = { ...loadKind<RandreadScenario>(randreadFile, "randread"), ...DEMO_RANDREAD };
  const burstIdleFile = bundledPath(BUNDLED_SCENARIOS, DEFAULT_BURST_IDLE_SCENARIO);
  const burstIdle = { ...loadKind<BurstIdleScenario>(burstIdleFile, "burst-idle"), ...DEMO_BURST_IDLE };

  const parts: DemoParts = {
    maxMapCount,
    stress: await runStress(stress, stressFile, { ...options, policies: DEFAULT_STRESS_POLICIES }),
    imbalance: await runImbalance(imbalance, imbalanceFile, { ...options, policies: DEFAULT_IMBALANCE_POLICIES }),
    randread: await runRandread(randread, randreadFile, { ...options, policies: DEFAULT_RANDREAD_POLICIES }),
    burstIdle: await runBurstIdle(burstIdle, burstIdleFile, { ...options, policies: DEFAULT_BURST_IDLE_POLICIES }),
  };
  return { parts, hostLimitSource: options.maxMapCount === undefined ? host.source : null };
}

function loadKind<S extends Scenario>(file: string, kind: S["kind"]): S {
  const s = loadScenarioFile(file);
  if (s.kind !== kind) throw new InputError("ERR_SCENARIO", `${file}: the demo needs kind '${kind}', found '${s.kind}'`);
  return s as S;
}
