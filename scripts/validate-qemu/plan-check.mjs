/**
 * validate:qemu's check of `coropool plan` against the real QEMU it boots.
 *
 * At idle (the guest up, before its load) the running QEMU is read as
 * `coropool plan --pid` reads it: its command line, the version in its
 * binary, and its VMAs besides its stacks (dist/src/plan/plan-input.js),
 * and its VMAs and stacks are then sampled every 50 ms, as the harness
 * samples its stacks, until the check. The plan itself is made after QEMU
 * has exited (dist/src/plan/plan.js; the same engine `plan --pid` runs, at
 * the host's max_map_count), so its second or more of CPU never delays a
 * sample. Checked, for the row of the policy that QEMU runs (legacy for 7.2,
 * batched uncapped for 10.0):
 * - its worst case is at least the real peak: the stacks the harness
 *   sampled, and the VMAs sampled here;
 * - its pool increase is the one the harness's replay needed (the
 *   configuration's virtio-blk devices);
 * and the ratio of worst case to real peak is reported.
 */
import { join } from "node:path";

const SAMPLE_MS = 50;

/** The dist modules, loaded once (preparePlanCheck): validate:qemu builds before it runs. */
let dist = null;

/** Loads the dist modules: call once before the first run (startPlanCheck is synchronous). */
export async function preparePlanCheck(root) {
  dist ??= {
    input: await import(join(root, "dist", "src", "plan", "plan-input.js")),
    plan: await import(join(root, "dist", "src", "plan", "plan.js")),
    host: await import(join(root, "dist", "src", "host", "maps-stacks.js")),
    limits: await import(join(root, "dist", "src", "vma", "limits.js")),
  };
}

/**
 * Reads the plan's input from a running QEMU now and samples its VMAs and
 * stacks from now on. Synchronous, a few reads of /proc: the harness calls
 * it from its idle moment. The input or the error that refused it is kept.
 */
export function startPlanCheck(pid) {
  const modules = dist;
  const state = { pid, input: null, error: null, peakVmas: 0, peakStacks: 0, samples: 0, timer: null };
  try {
    state.input = modules.input.readPlanInput({ pid }, {});
  } catch (error) {
    state.error = error instanceof Error ? error.message : String(error);
    return state;
  }
  const sample = () => {
    try {
      const { vmas, stacks } = modules.host.scanMapsFile(`/proc/${pid}/maps`, modules.host.stackRuleFor(pid));
      if (vmas === 0) return;
      state.peakVmas = Math.max(state.peakVmas, vmas);
      state.peakStacks = Math.max(state.peakStacks, stacks);
      state.samples++;
    } catch {
      clearInterval(state.timer); // QEMU has exited
    }
  };
  sample();
  state.timer = setInterval(sample, SAMPLE_MS);
  state.timer.unref();
  return state;
}

/**
 * The plan of the QEMU read at idle, against what was measured: `policy` is
 * the one the harness replays ("legacy", "batched"), `sampledPeak` the most
 * stacks it sampled, `poolIncrease` the increase its replay was given.
 */
export async function checkPlan(state, { policy, sampledPeak, poolIncrease }) {
  if (state === null || state === undefined) return failed("not planned: QEMU's maps could not be read at idle");
  clearInterval(state.timer);
  if (state.input === null) return failed(`not planned: ${state.error}`);
  const { input } = state;
  const outcome = await dist.plan.planOfInput(input, { maxMapCount: dist.limits.readMaxMapCount().value });
  const row = outcome.rows.find((r) => r.thisQemu);
  const want = policy === "batched" ? "batched (uncapped)" : policy;
  if (row === undefined || row.label !== want) return failed(`the plan's policy for QEMU ${input.qemuVersion.value} is ${row?.label ?? "none"}, the harness replays ${want}`);
  const realStacks = Math.max(sampledPeak, state.peakStacks);
  const result = {
    version: input.qemuVersion.value,
    row: row.label,
    threads: outcome.demand.threads.length,
    rounds: outcome.schedule.rounds,
    baseline: input.baselineVmas.value,
    poolIncrease: outcome.demand.totalPoolIncrease,
    replayIncrease: poolIncrease,
    worstStacks: row.peakStacks,
    worstVmas: row.peakVmas,
    realStacks,
    realVmas: state.peakVmas,
    samples: state.samples,
    stacksRatio: row.peakStacks / realStacks,
    vmasRatio: state.peakVmas > 0 ? row.peakVmas / state.peakVmas : null,
  };
  const problems = [];
  if (row.peakStacks < realStacks) problems.push(`worst case ${row.peakStacks} stacks < real peak ${realStacks}`);
  if (row.peakVmas < state.peakVmas) problems.push(`worst case ${row.peakVmas} VMAs < real peak ${state.peakVmas}`);
  if (outcome.demand.totalPoolIncrease !== poolIncrease) problems.push(`pool increase ${outcome.demand.totalPoolIncrease} != the replay's ${poolIncrease}`);
  return { ...result, ok: problems.length === 0, text: problems.length === 0 ? "ok" : problems.join("; ") };
}

function failed(text) {
  return { ok: false, text };
}

/** The plan's figures beside the real ones, one row per run: a Markdown table as RESULTS.md keeps them. */
export function planTable(rows) {
  const header = ["configuration", "QEMU", "plan row", "threads", "rounds", "baseline", "plan inc", "replay inc", "worst stacks", "real peak stacks", "ratio", "worst VMAs", "real peak VMAs", "ratio", ""];
  const ratio = (x) => (x === null || x === undefined ? "?" : x.toFixed(2));
  const body = rows.map(({ config, qemu, plan: p }) =>
    p.row === undefined
      ? [config, qemu, "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", p.text]
      : [config, qemu, p.row, p.threads, p.rounds, p.baseline, p.poolIncrease, p.replayIncrease, p.worstStacks, p.realStacks, ratio(p.stacksRatio), p.worstVmas, p.realVmas, ratio(p.vmasRatio), p.text],
  );
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => String(row[i]).length)));
  const fmt = (row) => "| " + row.map((c, i) => String(c).padEnd(widths[i])).join(" | ") + " |";
  return [fmt(header), "|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|", ...body.map(fmt)].join("\n");
}
