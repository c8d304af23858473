/**
 * A thread that takes and releases the shared mutex in a loop, timing itself.
 * Two of these started together measure the contended lock + unlock.
 */
import { parentPort, workerData } from "node:worker_threads";
import { FutexMutex } from "../../src/sync/futex-mutex.js";

interface ContenderData {
  buffer: SharedArrayBuffer;
  id: number;
  rounds: number;
}

const { buffer, id, rounds } = workerData as ContenderData;
const i32 = new Int32Array(buffer, 64);
const i64 = new BigInt64Array(buffer, 0, 8);
const mutex = new FutexMutex(i32, 0, i64, 0);
const start = new Int32Array(buffer, 64 + 16 * 4, 1);

// Start together: wait (bounded) until the main thread releases the start word.
Atomics.wait(start, 0, 0, 10_000);
const t0 = process.hrtime.bigint();
for (let i = 0; i < rounds; i++) {
  mutex.lock(id);
  mutex.unlock();
}
const ns = Number(process.hrtime.bigint() - t0);
parentPort!.postMessage({ nsPerOp: ns / rounds });
