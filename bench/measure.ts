import { Bench } from "tinybench";

/** How long each benchmark task runs: the full run, or a smoke test's tiny budget. */
export interface BenchSettings {
  quick: boolean;
}

/** One measured figure: nanoseconds per operation, the median over tinybench's samples. */
export interface PerOp {
  name: string;
  nsPerOp: number;
  /** Relative margin of error of the mean, in percent (tinybench's rme). */
  rmePct: number;
  samples: number;
}

/** Operations inside one task call: tinybench's own ~35 ns per call is spread over them. */
export const OPS_PER_CALL = 1000;

/**
 * Measures each task as ns per operation. Every task loops OPS_PER_CALL
 * operations inside one call, so the harness's cost per call is amortised.
 * The tasks of one call to measure() run in the same process, one after
 * another, so their ratios are the figures to quote.
 */
export async function measure(settings: BenchSettings, tasks: { name: string; fn: () => void; ops?: number }[]): Promise<PerOp[]> {
  const bench = new Bench(settings.quick ? { time: 5, iterations: 3, warmupTime: 2, warmupIterations: 1 } : { time: 400, warmupTime: 100 });
  for (const t of tasks) bench.add(t.name, t.fn);
  await bench.run();
  return bench.tasks.map((task, i) => {
    const r = task.result;
    if (r.state !== "completed") throw new Error(`benchmark '${task.name}' did not complete: ${r.state}`);
    const ops = tasks[i]!.ops ?? OPS_PER_CALL;
    return { name: task.name, nsPerOp: (r.latency.p50 * 1e6) / ops, rmePct: r.latency.rme, samples: r.latency.samples?.length ?? 0 };
  });
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function find(results: PerOp[], name: string): PerOp {
  const r = results.find((x) => x.name === name);
  if (!r) throw new Error(`no result named '${name}'`);
  return r;
}

/** "1.23x" */
export function ratio(a: number, b: number): string {
  return b > 0 ? `${(a / b).toFixed(2)}x` : "n/a";
}

export function ns(x: number): string {
  return x >= 1000 ? `${(x / 1000).toFixed(2)} us` : `${x.toFixed(1)} ns`;
}

/** A markdown table. */
export function markdownTable(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}
