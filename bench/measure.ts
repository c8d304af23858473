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

export interface Timed {
  name: string;
  /** Median wall and CPU milliseconds over the repetitions. */
  wallMs: number;
  cpuMs: number;
  units: number;
}

/**
 * Runs the tasks in turn, `rounds` times over (A B C A B C ...), so that a
 * change in the machine's load hits them all alike; each figure is a median.
 * CPU time is the whole process's, its pool threads included (zlib's, for
 * one); a child process's is not.
 */
export async function interleaved(rounds: number, tasks: { name: string; run: () => Promise<number> }[]): Promise<Timed[]> {
  const samples = tasks.map(() => ({ wall: [] as number[], cpu: [] as number[], units: 0 }));
  // A first round warms the JIT (and the caches) and is not counted: long runs go at the warm speed.
  for (const task of tasks) await task.run();
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < tasks.length; i++) {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      samples[i]!.units = await tasks[i]!.run();
      samples[i]!.wall.push(performance.now() - t0);
      const cpu = process.cpuUsage(cpu0);
      samples[i]!.cpu.push((cpu.user + cpu.system) / 1000);
    }
  }
  return tasks.map((t, i) => ({ name: t.name, wallMs: median(samples[i]!.wall), cpuMs: median(samples[i]!.cpu), units: samples[i]!.units }));
}
