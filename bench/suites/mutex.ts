import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { projectRoot } from "../../src/project-root.js";
import { FutexMutex } from "../../src/sync/futex-mutex.js";
import { markdownTable, measure, ns, OPS_PER_CALL, ratio, type BenchSettings } from "../measure.js";

/** Int32 words start after 64 bytes of BigInt64 statistics; the start word sits after the mutex. */
const I32_OFFSET_BYTES = 64;

function sharedMutex(): { buffer: SharedArrayBuffer; mutex: FutexMutex } {
  const buffer = new SharedArrayBuffer(I32_OFFSET_BYTES + 32 * 4);
  const i32 = new Int32Array(buffer, I32_OFFSET_BYTES);
  const i64 = new BigInt64Array(buffer, 0, 8);
  FutexMutex.initialize(i32, 0, i64, 0);
  return { buffer, mutex: new FutexMutex(i32, 0, i64, 0) };
}

/** Two worker threads hammer one mutex; the figure is wall time per lock + unlock on each. */
async function contended(rounds: number): Promise<{ nsPerOp: number; contended: number; acquisitions: number }> {
  const { buffer, mutex } = sharedMutex();
  const file = join(projectRoot(), "dist", "bench", "workers", "mutex-contender.js");
  const workers = [0, 1].map((id) => new Worker(file, { workerData: { buffer, id, rounds } }));
  const done = workers.map(
    (w) =>
      new Promise<number>((resolve, reject) => {
        w.once("message", (m: { nsPerOp: number }) => resolve(m.nsPerOp));
        w.once("error", reject);
      }),
  );
  await new Promise((r) => setTimeout(r, 50)); // let both reach the start line
  const start = new Int32Array(buffer, I32_OFFSET_BYTES + 16 * 4, 1);
  Atomics.store(start, 0, 1);
  Atomics.notify(start, 0);
  try {
    const perOp = await Promise.all(done);
    const stats = mutex.stats();
    return { nsPerOp: Math.max(...perOp), contended: stats.contended, acquisitions: stats.acquisitions };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

export async function runMutex(settings: BenchSettings): Promise<{ markdown: string; uncontendedNs: number; contendedNs: number }> {
  const { mutex } = sharedMutex();
  const [uncontended] = await measure(settings, [
    {
      name: "lock+unlock uncontended",
      fn: () => {
        for (let i = 0; i < OPS_PER_CALL; i++) {
          mutex.lock(0);
          mutex.unlock();
        }
      },
    },
  ]);
  const c = await contended(settings.quick ? 2_000 : 500_000);
  const markdown = [
    "The global-pool futex mutex (three-state, Drepper). Contended: two worker threads, each timing its own loop of lock + unlock on the same mutex.",
    "",
    markdownTable(
      ["case", "per lock+unlock", "vs uncontended", "contended acquisitions"],
      [
        ["uncontended (one thread)", ns(uncontended!.nsPerOp), "1.00x", "-"],
        ["2 threads contending", ns(c.nsPerOp), ratio(c.nsPerOp, uncontended!.nsPerOp), `${c.contended} of ${c.acquisitions}`],
      ],
    ),
  ].join("\n");
  return { markdown, uncontendedNs: uncontended!.nsPerOp, contendedNs: c.nsPerOp };
}
