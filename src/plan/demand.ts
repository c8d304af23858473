/**
 * A VM's coroutine demand, from its model (src/vmconfig/): the threads that
 * run coroutines, and for every storage device the most coroutines it can
 * hold at once, which thread creates them and which one terminates them
 * (docs/design.md, "Plan: a VM's worst case"). Under legacy each such thread has a pool of its
 * own, so where a coroutine is created and where it dies decides the pools.
 *
 * Where a request's coroutine lives (QEMU's block layer; the lines are in
 * src/vmconfig/qemu-rules.ts):
 * - a device in an IOThread, or in the main loop with ioeventfd on: the
 *   guest's notification is handled in that thread, which creates the
 *   request's coroutine (blk_aio_prwv → qemu_coroutine_create); the I/O
 *   completes in the same AioContext, where the coroutine terminates;
 * - a device whose notifications are handled in the vCPU that wrote them
 *   (ioeventfd off, IDE, AHCI): the vCPU thread creates the coroutine, under
 *   the BQL, and enters it at once; it yields on the I/O, whose completion
 *   runs in the main loop: the coroutine terminates there;
 * - NVMe: doorbell writes schedule the queue's processing in the main loop,
 *   which creates and terminates its coroutines.
 */
import type { QemuVersion } from "../vmconfig/qemu-rules.js";
import {
  AHCI_MAX_CMDS, IDE_REQUESTS_PER_BUS, NVME_COROUTINES_PER_REQUEST, NVME_TWO_COROUTINES_WHY, nvmeCommandsPerQueue, versionAtMost,
} from "../vmconfig/qemu-rules.js";
import type { IdeDisk, Nvme, StorageDevice, VirtioBlk, VirtioScsi, VmModel } from "../vmconfig/index.js";

export type ThreadKind = "main-loop" | "iothread" | "vcpu";

/** A thread that runs coroutines: T<index> in the plan's schedule. */
export interface CoroutineThread {
  readonly index: number;
  readonly kind: ThreadKind;
  /** "main loop", "IOThread io0", "vCPU 2". */
  readonly name: string;
}

/** One device's share of demand on one set of threads. */
export interface DemandSource {
  /** The device as the input names it: driver and id. */
  readonly device: string;
  /** Threads that create its coroutines (several vCPUs may start its requests). */
  readonly creators: readonly number[];
  /** The thread its coroutines terminate on. */
  readonly terminator: number;
  /** The most requests in flight, and the coroutines each holds at once. */
  readonly requests: number;
  readonly coroutinesPerRequest: number;
  readonly coroutines: number;
  /** How the bound was derived, one step a line. */
  readonly why: readonly string[];
}

/** What one device adds to the pool size at realize. */
export interface PoolIncreaseItem {
  readonly device: string;
  readonly amount: number;
  readonly why: string;
}

export interface Demand {
  readonly threads: readonly CoroutineThread[];
  readonly sources: readonly DemandSource[];
  readonly poolIncrease: readonly PoolIncreaseItem[];
  readonly totalPoolIncrease: number;
  /** Devices that matter but whose demand this plan cannot bound, and why. */
  readonly unplanned: readonly { what: string; why: string }[];
}

/**
 * qemu_coroutine_inc_pool_size(), called by virtio-blk's realize, exists
 * from QEMU 7.0 on: an older QEMU adds nothing to the pool size.
 */
export const POOL_INCREASE_SINCE: QemuVersion = { major: 7, minor: 0 };

/** The main loop is always T0: every QEMU has one, and it runs the block layer's own coroutines. */
const MAIN_LOOP = 0;

export function demandOf(model: VmModel, version: QemuVersion | null): Demand {
  const threads = new ThreadTable(model);
  const sources: DemandSource[] = [];
  const poolIncrease: PoolIncreaseItem[] = [];
  const unplanned: { what: string; why: string }[] = [];
  for (const device of model.devices) {
    const label = deviceLabel(device);
    if (device.kind === "virtio-blk") {
      sources.push(...virtioBlkSources(device, label, threads));
      const item = virtioBlkPoolIncrease(device, label, version);
      if (item !== null) poolIncrease.push(item);
    } else if (device.kind === "virtio-scsi") sources.push(...virtioScsiSources(device, label, threads));
    else if (device.kind === "nvme") sources.push(nvmeSource(device, label));
    else if (device.kind === "ide") sources.push(ideSource(device, label, threads));
    else unplanned.push({ what: label, why: "a SCSI adapter whose requests in flight no property bounds: its disks are not planned" });
  }
  const used = threads.used(sources);
  const renumber = new Map(used.map((t, i) => [t.index, i]));
  const renumbered = sources.filter((s) => s.coroutines > 0).map((s) => ({
    ...s,
    creators: s.creators.map((c) => renumber.get(c)!),
    terminator: renumber.get(s.terminator)!,
  }));
  return {
    threads: used.map((t, i) => ({ ...t, index: i })),
    sources: renumbered,
    poolIncrease,
    totalPoolIncrease: poolIncrease.reduce((sum, p) => sum + p.amount, 0),
    unplanned,
  };
}

export function deviceLabel(device: StorageDevice): string {
  return device.id === null ? device.driver : `${device.driver} ${device.id}`;
}

/** The threads by name: the main loop, then the IOThreads as defined, then the vCPUs. */
class ThreadTable {
  private readonly all: CoroutineThread[] = [{ index: MAIN_LOOP, kind: "main-loop", name: "main loop" }];
  private readonly byIothread = new Map<string, number>();
  private readonly firstVcpu: number;
  readonly vcpus: number;

  constructor(model: VmModel) {
    for (const { id } of model.iothreads) {
      this.byIothread.set(id, this.all.length);
      this.all.push({ index: this.all.length, kind: "iothread", name: `IOThread ${id}` });
    }
    this.firstVcpu = this.all.length;
    this.vcpus = model.vcpus.value;
    for (let i = 0; i < this.vcpus; i++) this.all.push({ index: this.all.length, kind: "vcpu", name: `vCPU ${i}` });
  }

  iothread(id: string): number {
    return this.byIothread.get(id)!;
  }

  vcpuThreads(): number[] {
    return Array.from({ length: this.vcpus }, (_, i) => this.firstVcpu + i);
  }

  /** The main loop, and every other thread a source names, in table order. */
  used(sources: readonly DemandSource[]): CoroutineThread[] {
    const named = new Set<number>([MAIN_LOOP]);
    for (const s of sources) {
      if (s.coroutines === 0) continue;
      for (const c of s.creators) named.add(c);
      named.add(s.terminator);
    }
    return this.all.filter((t) => named.has(t.index));
  }
}

/** Who creates a virtio device's coroutines when its notifications are not in an IOThread. */
function mainLoopOrVcpus(ioeventfd: boolean, threads: ThreadTable): { creators: number[]; where: string } {
  if (ioeventfd) return { creators: [MAIN_LOOP], where: "the main loop (ioeventfd on, no IOThread)" };
  return { creators: threads.vcpuThreads(), where: "the vCPU that notified (ioeventfd off), terminating in the main loop" };
}

/**
 * The IOThread each virtqueue runs in under iothread-vq-mapping: the listed
 * vqs, or round-robin over the entries when none lists them
 * (hw/virtio/iothread-vq-mapping.c).
 */
function queuesPerIothread(mapping: NonNullable<VirtioBlk["iothreadVqMapping"]>, numQueues: number): Map<string, number> {
  const counts = new Map<string, number>();
  const explicit = mapping.some((m) => m.vqs !== null);
  for (let q = 0; q < numQueues; q++) {
    const entry = explicit ? mapping.find((m) => m.vqs?.includes(q)) : mapping[q % mapping.length];
    if (entry) counts.set(entry.iothread, (counts.get(entry.iothread) ?? 0) + 1);
  }
  return counts;
}

/**
 * virtio-blk: every descriptor of a virtqueue can hold a request (indirect
 * descriptors: a request takes one ring entry), and each request is one
 * coroutine (no merging in the worst case): num-queues × queue-size at once.
 */
function virtioBlkSources(dev: VirtioBlk, label: string, threads: ThreadTable): DemandSource[] {
  const queues = dev.numQueues.value;
  const size = dev.queueSize.value;
  const base = [`num-queues ${queues} (${dev.numQueues.why})`, `queue-size ${size} (${dev.queueSize.why})`];
  const share = (creators: number[], terminator: number, q: number, where: string): DemandSource =>
    source(label, creators, terminator, q * size, 1, [...base, `${q} × ${size} requests in flight, one coroutine each, in ${where}`]);
  if (dev.iothreadVqMapping !== null && dev.ioeventfd.value) {
    return [...queuesPerIothread(dev.iothreadVqMapping, queues)].map(([id, q]) => {
      const t = threads.iothread(id);
      return share([t], t, q, `IOThread ${id} (iothread-vq-mapping)`);
    });
  }
  if (dev.iothread !== null && dev.ioeventfd.value) {
    const t = threads.iothread(dev.iothread);
    return [share([t], t, queues, `IOThread ${dev.iothread}`)];
  }
  const { creators, where } = mainLoopOrVcpus(dev.ioeventfd.value, threads);
  return [share(creators, MAIN_LOOP, queues, where)];
}

/** virtio_blk_device_realize(): qemu_coroutine_inc_pool_size(num_queues × queue_size / 2). */
function virtioBlkPoolIncrease(dev: VirtioBlk, label: string, version: QemuVersion | null): PoolIncreaseItem | null {
  if (version !== null && !versionAtMost(POOL_INCREASE_SINCE, version)) return null;
  const amount = Math.floor((dev.numQueues.value * dev.queueSize.value) / 2);
  return { device: label, amount, why: `${dev.numQueues.value} × ${dev.queueSize.value} / 2 at realize (virtio_blk_device_realize)` };
}

/**
 * virtio-scsi: the guest may queue at most cmd_per_lun commands a LUN, and
 * the virtqueues hold num_queues × virtqueue_size; each command reaches the
 * block layer as one request, one coroutine.
 */
function virtioScsiSources(dev: VirtioScsi, label: string, threads: ThreadTable): DemandSource[] {
  const size = dev.virtqueueSize.value;
  const perLun = dev.cmdPerLun.value;
  const lunBound = dev.disks.length * perLun;
  const base = [
    `num_queues ${dev.numQueues.value} (${dev.numQueues.why})`, `virtqueue_size ${size} (${dev.virtqueueSize.why})`,
    `cmd_per_lun ${perLun} (${dev.cmdPerLun.why}) × ${dev.disks.length} disk(s) = ${lunBound}`,
  ];
  const share = (creators: number[], terminator: number, q: number, where: string): DemandSource => {
    const requests = Math.min(q * size, lunBound);
    return source(label, creators, terminator, requests, 1, [...base, `min(${q} × ${size}, ${lunBound}) = ${requests} requests in flight, one coroutine each, in ${where}`]);
  };
  if (dev.iothreadVqMapping !== null && dev.ioeventfd.value) {
    return [...queuesPerIothread(dev.iothreadVqMapping, dev.numQueues.value)].map(([id, q]) => {
      const t = threads.iothread(id);
      return share([t], t, q, `IOThread ${id} (iothread-vq-mapping)`);
    });
  }
  if (dev.iothread !== null && dev.ioeventfd.value) {
    const t = threads.iothread(dev.iothread);
    return [share([t], t, dev.numQueues.value, `IOThread ${dev.iothread}`)];
  }
  const { creators, where } = mainLoopOrVcpus(dev.ioeventfd.value, threads);
  return [share(creators, MAIN_LOOP, dev.numQueues.value, where)];
}

/** NVMe: every I/O queue full (entries − 1 commands), each command holding up to two coroutines. */
function nvmeSource(dev: Nvme, label: string): DemandSource {
  const pairs = dev.maxIoqpairs.value;
  const perQueue = nvmeCommandsPerQueue(dev.queueEntries.value);
  return source(label, [MAIN_LOOP], MAIN_LOOP, pairs * perQueue, NVME_COROUTINES_PER_REQUEST, [
    `max_ioqpairs ${pairs} (${dev.maxIoqpairs.why})`,
    `${dev.queueEntries.value} entries a queue hold ${perQueue} commands (${dev.queueEntries.why})`,
    `${pairs} × ${perQueue} commands in flight in the main loop, ${NVME_COROUTINES_PER_REQUEST} coroutines each (${NVME_TWO_COROUTINES_WHY})`,
  ]);
}

/** IDE runs one command at a time; an AHCI port queues up to 32 (NCQ). Started in the vCPU, completed in the main loop. */
function ideSource(dev: IdeDisk, label: string, threads: ThreadTable): DemandSource {
  const requests = dev.bus === "ahci" ? AHCI_MAX_CMDS : IDE_REQUESTS_PER_BUS;
  const why = dev.bus === "ahci" ? `an AHCI port's ${AHCI_MAX_CMDS} command slots (AHCI_MAX_CMDS)` : "an IDE bus runs one command at a time";
  return source(label, threads.vcpuThreads(), MAIN_LOOP, requests, 1, [`${why}: ${requests} in flight, started in the vCPU that wrote the port, completed in the main loop`]);
}

function source(device: string, creators: number[], terminator: number, requests: number, perRequest: number, why: string[]): DemandSource {
  return { device, creators, terminator, requests, coroutinesPerRequest: perRequest, coroutines: requests * perRequest, why };
}
