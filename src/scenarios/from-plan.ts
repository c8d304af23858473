/**
 * A plan's demand as a stress scenario (`coropool stress --scenario`), where
 * the format can say it: IOThreads serving virtio-blk devices' queues (each
 * full: inFlight 1), and coroutines created and freed in the main loop
 * (mainLoopInFlight). What it cannot say is refused by name: a vCPU thread
 * (its coroutines die in another thread), a virtio-blk device in the main
 * loop (the format raises the pool only for devices on IOThreads), a
 * virtio-scsi bound per LUN on an IOThread.
 */
import { InputError } from "../errors.js";
import { deviceLabel, type Demand } from "../plan/demand.js";
import type { StressScenario } from "./types.js";
import type { VmModel } from "../vmconfig/index.js";

export function stressScenarioOf(model: VmModel, demand: Demand, rounds: number, maxMapCount: number): StressScenario & { $schema: string } {
  const cannot = cannotExpress(model, demand);
  if (cannot.length > 0) {
    throw new InputError("ERR_BAD_ARGUMENT", `bad -o scenario for this VM: the stress scenario format cannot express ${cannot.join("; ")}; allowed: -o FILE.trace (the schedule as a trace, which replay reruns)`);
  }
  const iothreads = demand.threads.filter((t) => t.kind === "iothread");
  const indexOf = new Map(iothreads.map((t, i) => [t.index, i]));
  const devices = model.devices.flatMap((d) => {
    if (d.kind !== "virtio-blk") return [];
    const served = demand.sources.filter((s) => s.device === deviceLabel(d)).map((s) => indexOf.get(s.terminator)!);
    return [{ name: d.id ?? d.driver, numQueues: d.numQueues.value, queueSize: d.queueSize.value, iothreads: served }];
  });
  const mainLoopInFlight = demand.sources.filter((s) => s.terminator === 0).reduce((sum, s) => sum + s.coroutines, 0);
  return {
    $schema: "../docs/scenario.schema.json",
    kind: "vma-exhaustion",
    description: `From coropool plan of ${model.name ?? "a VM"}: every IOThread's queues full each round${mainLoopInFlight > 0 ? `, ${mainLoopInFlight} coroutines in the main loop` : ""}.`,
    guest: { iothreads: iothreads.length, mainLoop: mainLoopInFlight > 0, devices },
    rounds,
    inFlight: { min: 1, max: 1 },
    mainLoopInFlight,
    maxMapCount,
    seed: 1,
  };
}

function cannotExpress(model: VmModel, demand: Demand): string[] {
  const cannot: string[] = [];
  const vcpu = demand.sources.filter((s) => s.creators.some((c) => demand.threads[c]!.kind === "vcpu")).map((s) => s.device);
  if (vcpu.length > 0) cannot.push(`coroutines created in vCPU threads and freed in the main loop (${vcpu.join(", ")})`);
  const blkOnMain = demand.sources.filter((s) => s.terminator === 0 && model.devices.some((d) => d.kind === "virtio-blk" && deviceLabel(d) === s.device));
  if (blkOnMain.length > 0) cannot.push(`a virtio-blk device in the main loop (${blkOnMain.map((s) => s.device).join(", ")}): the format adds a device's pool increase only on IOThreads`);
  const scsiOnIothread = demand.sources.filter((s) => s.terminator !== 0 && model.devices.some((d) => d.kind === "virtio-scsi" && deviceLabel(d) === s.device));
  if (scsiOnIothread.length > 0) cannot.push(`virtio-scsi on an IOThread (${scsiOnIothread.map((s) => s.device).join(", ")}): the format bounds requests by queues, not per LUN`);
  if (!demand.threads.some((t) => t.kind === "iothread")) cannot.push("a VM without IOThreads: the format needs at least one");
  return cannot;
}
