/**
 * The ceilings a watch shows: each QEMU process's plan, as `plan --pid` makes
 * it (its own command line, the version in its binary, its VMAs besides its
 * stacks, the host's max_map_count), and of that plan the worst case under
 * the process's own policy. A plan takes a second or more: it is made once a
 * process (pid and start time), after the sample that asked for it was
 * returned, and the samples until then say "planning".
 */
import { setImmediate as afterThisTurn } from "node:timers/promises";
import { InputError } from "../errors.js";
import type { ProcessSnapshot } from "../host/snapshot.js";
import { readStat } from "../host/process-info.js";
import { PLANNING, type CeilingSource, type PlannedCeiling } from "../host/watcher.js";
import { planOfInput, type PlanRow } from "../plan/plan.js";
import { readPlanInput } from "../plan/plan-input.js";

export class PlanCeilings implements CeilingSource {
  private readonly known = new Map<string, PlannedCeiling>();
  private readonly pending = new Map<string, Promise<void>>();

  ceilingOf(snap: ProcessSnapshot): PlannedCeiling {
    const known = this.known.get(identityOf(snap));
    if (known !== undefined) return known;
    if (snap.unreadable !== undefined) return { unplanned: `unreadable (${snap.unreadable})` };
    if (!snap.qemu) return { unplanned: "not QEMU" };
    const key = identityOf(snap);
    if (!this.pending.has(key)) this.pending.set(key, this.plan(snap, key));
    return { unplanned: PLANNING };
  }

  keepOnly(snaps: readonly ProcessSnapshot[]): void {
    const watched = new Set(snaps.map(identityOf));
    for (const key of [...this.known.keys(), ...this.pending.keys()]) {
      if (!watched.has(key)) {
        this.known.delete(key);
        this.pending.delete(key);
      }
    }
  }

  /** Resolves once every plan started so far is made (`watch --once` waits for them). */
  async settled(): Promise<void> {
    await Promise.all(this.pending.values());
  }

  private async plan(snap: ProcessSnapshot, key: string): Promise<void> {
    await afterThisTurn();
    const planned = await ceilingOfProcess(snap).catch((error: unknown) => ({ unplanned: reasonOf(error) }));
    // A process forgotten while it was planned stays forgotten.
    if (this.pending.delete(key)) this.known.set(key, planned);
  }
}

/** A process's identity: pids are reused, start times tell the processes apart. */
function identityOf(snap: ProcessSnapshot): string {
  return `${snap.pid}@${snap.startTime ?? "?"}`;
}

/** The plan of the process's own command line, and its row for the process's policy. */
async function ceilingOfProcess(snap: ProcessSnapshot): Promise<PlannedCeiling> {
  const input = readPlanInput({ pid: snap.pid }, {});
  // What was read must be the process snapped, not one that took its pid since.
  if (readStat(snap.pid).startTime !== snap.startTime) return { unplanned: "exited" };
  const outcome = await planOfInput(input, { maxMapCount: snap.maxMapCount });
  const row = rowOf(outcome.rows, snap);
  if (row === undefined) return { unplanned: snap.policy === null ? "no QEMU version in its binary" : `no plan for the policy ${snap.policy}` };
  return { policy: row.label, stacks: row.peakStacks, vmas: row.peakVmas };
}

/** The row of a policy given for the pid (by its label), else the one the planned version runs. */
export function rowOf(rows: readonly PlanRow[], snap: Pick<ProcessSnapshot, "policy" | "policySource">): PlanRow | undefined {
  return snap.policySource === "given" ? rows.find((r) => r.label === snap.policy) : rows.find((r) => r.thisQemu);
}

/** One short reason: a bad input's message without its "allowed" part; a process gone is "exited". */
function reasonOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === "ENOENT" || code === "ESRCH") return "exited";
  const message = error instanceof Error ? error.message : String(error);
  const cut = error instanceof InputError ? message.indexOf("; allowed:") : -1;
  return cut === -1 ? message : message.slice(0, cut);
}
