import { parseTrace } from "../../src/replay/trace.js";
import { replayTrace, type ReplayOptions, type ReplayOutcome } from "../../src/replay/replay.js";
import { checkRegion } from "../../src/pools/invariants.js";

/** Builds trace text event by event, so hand-worked sequences read like the trace format. */
export class TraceBuilder {
  private readonly lines: string[];
  private next = 0;

  constructor(threads: number) {
    this.lines = [`threads ${threads}`];
  }

  /** Creates n coroutines on thread t; returns their names. */
  create(t: number, n = 1): string[] {
    const names: string[] = [];
    for (let i = 0; i < n; i++) {
      const name = `c${this.next++}`;
      this.lines.push(`create T${t} ${name}`);
      names.push(name);
    }
    return names;
  }

  terminate(t: number, names: string[]): this {
    for (const name of names) this.lines.push(`terminate T${t} ${name}`);
    return this;
  }

  /** create n then terminate them all, on thread t. */
  burst(t: number, n: number): this {
    return this.terminate(t, this.create(t, n));
  }

  inc(k: number): this {
    this.lines.push(`inc ${k}`);
    return this;
  }

  dec(k: number): this {
    this.lines.push(`dec ${k}`);
    return this;
  }

  exit(t: number): this {
    this.lines.push(`exit T${t}`);
    return this;
  }

  text(): string {
    return this.lines.join("\n") + "\n";
  }

  /** Replays the trace and checks the region's invariants on the way out. */
  replay(options: Partial<ReplayOptions> & Pick<ReplayOptions, "policy">): ReplayOutcome {
    const outcome = replayTrace(parseTrace(this.text()), { maxMapCount: 65530, baselineVmas: 1000, ...options });
    const census = checkRegion(outcome.region, outcome.result.live);
    if (census.violations.length > 0) throw new Error("invariant violations:\n" + census.violations.join("\n"));
    return outcome;
  }
}
