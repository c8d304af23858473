/**
 * What a randread plan asks of the device model, before anything runs: a
 * cell in which not one request can complete is refused (it would measure
 * nothing and, draining its in-flight requests, could run for ages), and the
 * time a cell may take at most gives the run's default time limit.
 */
import { formatByteSize } from "../../byte-size.js";
import { InputError } from "../../errors.js";
import type { DeviceModel, RandreadScenario } from "../types.js";
import { BlockDevice } from "./device.js";

const NS_PER_MS = 1_000_000;
/** Worker start-up and the runtime's own work around a cell, on a busy machine. */
const CELL_OVERHEAD_MS = 60_000;

/** One request alone on the device, from submit to completion: its transfer, then the fixed latency. */
export function requestServiceMs(device: Readonly<DeviceModel>, blockSize: number): number {
  const model = new BlockDevice(device);
  return (model.transferNs(blockSize) + model.fixedLatencyNs) / NS_PER_MS;
}

/**
 * Refuses a plan in which a request of some block size takes longer on the
 * device model than a whole cell (durationMs): no request could complete, so
 * IOPS and latencies would be empty.
 */
export function checkRandreadFeasible(s: RandreadScenario): void {
  for (const blockSize of s.blockSizes) {
    const serviceMs = requestServiceMs(s.device, blockSize);
    if (serviceMs > s.durationMs) {
      throw new InputError(
        "ERR_SCENARIO",
        `randread: one ${formatByteSize(blockSize)} request takes ${formatMs(serviceMs)} on the device model ` +
          `(latencyUs ${s.device.latencyUs}, bandwidthMBps ${s.device.bandwidthMBps}), longer than a cell's durationMs ${s.durationMs}, ` +
          `so no request could complete; allowed: a device fast enough for one request per cell (raise bandwidthMBps or durationMs, or lower latencyUs or the block size)`,
      );
    }
  }
}

/**
 * The most one cell can take: its duration, then draining every request in
 * flight (iodepth of the largest block queued on the one data path), plus
 * the runtime's overhead. The default time limit of a randread run.
 */
export function randreadCellLimitMs(s: RandreadScenario): number {
  const largest = Math.max(0, ...s.blockSizes);
  const deepest = Math.max(0, ...s.iodepths);
  return Math.ceil(s.durationMs + deepest * requestServiceMs(s.device, largest) + CELL_OVERHEAD_MS);
}

function formatMs(ms: number): string {
  return ms < 1e6 ? `${Number(ms.toPrecision(4))} ms` : `${ms.toExponential(2)} ms`;
}
