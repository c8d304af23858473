/**
 * A VM's coroutine demand, from its model (src/vmconfig/): the threads that
 * run coroutines, and for every storage device the most coroutines it can
 * hold at once, which thread creates them and which one terminates them
 * (docs/design.md, "Plan: a VM's worst case"). Under legacy each such thread has a pool of its
 * own, so where a coroutine is created and where it dies decides the pools.
 *
 * Where a request's coroutines live (REQUEST_THREADS in
 * src/vmconfig/qemu-rules.ts, with QEMU's lines):
 * - a device in an IOThread, or in the main loop with ioeventfd on (NVMe
 *   always): created, run and ended in that thread;
 * - a device whose requests start in the vCPU that wrote a register
 *   (ioeventfd off, IDE, AHCI): the first coroutine is created in the vCPU
 *   thread and ends in the main loop; a chained second one
 *   (CHAINED_REQUEST_WHY) is created and ended in the main loop.
 * How many at once: one per block call, two where a completion chains the
 * next call (NVMe, SCSI disks, IDE), and a qcow2 node's parallel tasks
 * beneath (BACKEND_EXTRA_COROUTINES).
 */
import type { QemuVersion } from "../vmconfig/qemu-rules.js";
import {
  AHCI_MAX_CMDS, BACKEND_EXTRA_COROUTINES, CMD_PER_LUN_WHY, IDE_COROUTINES_PER_REQUEST, IDE_REQUESTS_PER_BUS, NVME_COROUTINES_PER_REQUEST,
  NVME_TWO_COROUTINES_WHY, nvmeCommandsPerQueue, SCSI_DISK_COROUTINES_PER_REQUEST, versionAtMost, VIRTIO_BLK_COROUTINES_PER_REQUEST,
  THREAD_POOL_MAX_THREADS_DEFAULT, THREAD_STACK_VMAS, virtioBlkPoolSizeIncrease, virtqueueRequestsInFlight,
} from "../vmconfig/qemu-rules.js";
import type { Backend, IdeDisk, Nvme, StorageDevice, VirtioBlk, VirtioScsi, VmModel } from "../vmconfig/index.js";

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
  const busyChannels = new Set<string>();
  for (const device of model.devices) {
    const label = deviceLabel(device);
    if (device.kind === "virtio-blk") {
      sources.push(...virtioBlkSources(device, label, threads));
      const item = virtioBlkPoolIncrease(device, label, version);
      if (item !== null) poolIncrease.push(item);
    } else if (device.kind === "virtio-scsi") sources.push(...virtioScsiSources(device, label, threads));
    else if (device.kind === "nvme") sources.push(...nvmeSource(device, label));
    else if (device.kind === "ide") sources.push(...ideSources(device, label, threads, busyChannels));
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

/**
 * VMAs that come with load besides the stacks: the thread pool of each
 * AioContext that ends requests (the main loop, an IOThread), at its most
 * workers, two VMAs each. An idle QEMU's baseline has none of them.
 */
export function threadPoolVmas(demand: Demand): { vmas: number; why: string } {
  const contexts = new Set(demand.sources.map((s) => s.terminator));
  const vmas = contexts.size * THREAD_POOL_MAX_THREADS_DEFAULT * THREAD_STACK_VMAS;
  const names = [...contexts].map((t) => demand.threads[t]!.name).join(", ");
  return { vmas, why: `${contexts.size} AioContext(s) doing I/O (${names || "none"}) × ${THREAD_POOL_MAX_THREADS_DEFAULT} thread-pool workers × ${THREAD_STACK_VMAS} VMAs (include/block/thread-pool.h THREAD_POOL_MAX_THREADS_DEFAULT)` };
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

/** Where a device's requests run: the threads that create their first coroutine, and the thread they end on. */
interface Place {
  readonly creators: number[];
  readonly terminator: number;
  readonly where: string;
  /** The device's virtqueues this place serves. */
  readonly queues: number;
}

/**
 * A virtio device's places (REQUEST_THREADS): its IOThreads (iothread=, or
 * iothread-vq-mapping's share of the queues), else the main loop with
 * ioeventfd on, else the vCPUs, ending in the main loop.
 */
function virtioPlaces(dev: VirtioBlk | VirtioScsi, threads: ThreadTable): Place[] {
  const queues = dev.numQueues.value;
  if (dev.iothreadVqMapping !== null) {
    return [...queuesPerIothread(dev.iothreadVqMapping, queues)].map(([id, q]) => {
      const t = threads.iothread(id);
      return { creators: [t], terminator: t, where: `IOThread ${id} (iothread-vq-mapping: ${q} of ${queues} queues)`, queues: q };
    });
  }
  if (dev.iothread !== null) {
    const t = threads.iothread(dev.iothread);
    return [{ creators: [t], terminator: t, where: `IOThread ${dev.iothread}`, queues }];
  }
  if (dev.ioeventfd.value) return [{ creators: [MAIN_LOOP], terminator: MAIN_LOOP, where: "the main loop (ioeventfd on, no IOThread)", queues }];
  return [vcpuPlace(threads, "the vCPU that notified (ioeventfd off)", queues)];
}

function vcpuPlace(threads: ThreadTable, started: string, queues: number): Place {
  return { creators: threads.vcpuThreads(), terminator: MAIN_LOOP, where: `${started}, ending in the main loop`, queues };
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
 * The coroutines one request holds at once: the device's own chain (one
 * block call, or two where a completion issues the next), or one call with a
 * qcow2 node's parallel tasks beneath it, whichever is more.
 */
function perRequestOf(chain: number, chainWhy: string, backends: readonly (Backend | null)[]): { count: number; why: string } {
  const extra = Math.max(0, ...backends.flatMap((b) => (b === null ? [] : b.drivers.map((d) => BACKEND_EXTRA_COROUTINES[d]?.most ?? 0))));
  if (1 + extra > chain) {
    const driver = backends.flatMap((b) => b?.drivers ?? []).find((d) => BACKEND_EXTRA_COROUTINES[d]?.most === extra)!;
    return { count: 1 + extra, why: `1 + ${extra} ${driver} task coroutines beneath it (${BACKEND_EXTRA_COROUTINES[driver]!.why})` };
  }
  return { count: chain, why: chainWhy };
}

/**
 * A device's requests at one place. Where the first coroutine is created in
 * a vCPU, only it is: a chained second call, and a qcow2 node's tasks, are
 * made from the completion, in the main loop (REQUEST_THREADS.vcpu).
 */
function sourcesAt(label: string, place: Place, requests: number, perRequest: { count: number; why: string }, why: readonly string[]): DemandSource[] {
  const lines = [...why, `${requests} requests in flight in ${place.where}, ${perRequest.count} coroutine(s) each: ${perRequest.why}`];
  if (place.creators.every((c) => c === place.terminator)) return [source(label, place.creators, place.terminator, requests, perRequest.count, lines)];
  const first = source(label, place.creators, place.terminator, requests, 1, [...lines, "the first coroutine of each: created in the vCPU, ended in the main loop"]);
  if (perRequest.count === 1) return [first];
  return [first, source(label, [place.terminator], place.terminator, requests, perRequest.count - 1, [...lines, "the rest of each: created and ended in the main loop, from the first one's completion"])];
}

/** virtio-blk: every entry of a virtqueue can hold a request (virtqueueRequestsInFlight); one block call each. */
function virtioBlkSources(dev: VirtioBlk, label: string, threads: ThreadTable): DemandSource[] {
  const size = dev.queueSize.value;
  const why = [`num-queues ${dev.numQueues.value} (${dev.numQueues.why})`, `queue-size ${size} (${dev.queueSize.why})`];
  const per = perRequestOf(VIRTIO_BLK_COROUTINES_PER_REQUEST, "one block call (hw/block/virtio-blk.c submit_requests)", [dev.backend]);
  return virtioPlaces(dev, threads).flatMap((place) => sourcesAt(label, place, place.queues * virtqueueRequestsInFlight(size), per, why));
}

/** virtio_blk_device_realize(): qemu_coroutine_inc_pool_size(num_queues × queue_size / 2), from QEMU 7.0. */
function virtioBlkPoolIncrease(dev: VirtioBlk, label: string, version: QemuVersion | null): PoolIncreaseItem | null {
  if (version !== null && !versionAtMost(POOL_INCREASE_SINCE, version)) return null;
  const amount = virtioBlkPoolSizeIncrease(dev.numQueues.value, dev.queueSize.value);
  return { device: label, amount, why: `${dev.numQueues.value} × ${dev.queueSize.value} / 2 at realize (virtio_blk_device_realize)` };
}

/**
 * virtio-scsi: QEMU bounds requests by its virtqueues only (cmd_per_lun is
 * the guest's starting depth, CMD_PER_LUN_WHY); a controller without disks
 * has none. A SCSI disk's request can chain a flush (two coroutines).
 */
function virtioScsiSources(dev: VirtioScsi, label: string, threads: ThreadTable): DemandSource[] {
  const size = dev.virtqueueSize.value;
  const why = [
    `num_queues ${dev.numQueues.value} (${dev.numQueues.why})`, `virtqueue_size ${size} (${dev.virtqueueSize.why})`,
    `${dev.disks.length} disk(s); cmd_per_lun ${dev.cmdPerLun.value} is not a bound (${CMD_PER_LUN_WHY})`,
  ];
  if (dev.disks.length === 0) return [];
  const per = perRequestOf(SCSI_DISK_COROUTINES_PER_REQUEST, "a FUA write chains its flush (hw/scsi/scsi-disk.c scsi_write_do_fua)", dev.disks.map((d) => d.backend));
  return virtioPlaces(dev, threads).flatMap((place) => sourcesAt(label, place, place.queues * virtqueueRequestsInFlight(size), per, why));
}

/** NVMe: every I/O queue's requests (nvmeCommandsPerQueue) in the main loop, each chaining up to two block calls. */
function nvmeSource(dev: Nvme, label: string): DemandSource[] {
  const pairs = dev.maxIoqpairs.value;
  const perQueue = nvmeCommandsPerQueue(dev.queueEntries.value);
  const per = perRequestOf(NVME_COROUTINES_PER_REQUEST, NVME_TWO_COROUTINES_WHY, dev.namespaces.map((n) => n.backend));
  const place: Place = { creators: [MAIN_LOOP], terminator: MAIN_LOOP, where: "the main loop", queues: pairs };
  return sourcesAt(label, place, pairs * perQueue, per, [
    `max_ioqpairs ${pairs} (${dev.maxIoqpairs.why})`,
    `${dev.queueEntries.value} entries a queue, ${perQueue} requests in flight each (${dev.queueEntries.why})`,
  ]);
}

/** IDE runs one command a bus (its disks share it); an AHCI port queues 32 (NCQ). Started in the vCPU, ended in the main loop. */
function ideSources(dev: IdeDisk, label: string, threads: ThreadTable, busyChannels: Set<string>): DemandSource[] {
  const ahci = dev.bus === "ahci";
  if (!ahci && dev.channel !== null) {
    if (busyChannels.has(dev.channel)) return [];
    busyChannels.add(dev.channel);
  }
  const requests = ahci ? AHCI_MAX_CMDS : IDE_REQUESTS_PER_BUS;
  const why = ahci ? `an AHCI port's ${AHCI_MAX_CMDS} command slots (AHCI_MAX_CMDS)` : `IDE bus ${dev.channel ?? "(its own)"} runs one command at a time, for all its disks`;
  const per = perRequestOf(IDE_COROUTINES_PER_REQUEST, "DMA continues from its own completion (hw/ide/core.c ide_dma_cb)", [dev.backend]);
  return sourcesAt(label, vcpuPlace(threads, "the vCPU that wrote the port", 1), requests, per, [why]);
}

function source(device: string, creators: number[], terminator: number, requests: number, perRequest: number, why: string[]): DemandSource {
  return { device, creators, terminator, requests, coroutinesPerRequest: perRequest, coroutines: requests * perRequest, why };
}
