/**
 * The rules of a vma-exhaustion file: a guest (IOThreads, main loop, virtio-blk
 * devices) and the bursts it drives. Beyond the schema: a device's IOThreads
 * must exist in the guest, device names must differ (reports name devices),
 * and inFlight.max may not be below inFlight.min.
 */
import {
  DESCRIPTION,
  kindFile,
  MAX_COROUTINES_PER_THREAD,
  MAX_MAP_COUNT,
  MAX_THREADS,
  ROUNDS,
  SEED,
  THREADS,
} from "../common-fields.js";
import {
  BOOLEAN,
  distinctList,
  integer,
  isPlainObject,
  list,
  numberIn,
  object,
  oneOf,
  optional,
  optionalFrom,
  required,
  text,
  valueAt,
  type ItemsRefusal,
  type Place,
} from "../field-rules.js";
import { DEFAULT_QUEUE_SIZE, MAX_DEVICES, MAX_NUM_QUEUES, MAX_QUEUE_SIZE, MIN_QUEUE_SIZE } from "../guest.js";
import { notAllowed, pathText } from "../refusal.js";

/** A few rounds: enough for legacy's per-thread pools to fill up and strand stacks. */
export const DEFAULT_STRESS_ROUNDS = 6;
export const DEFAULT_STRESS_IN_FLIGHT = { min: 0.5, max: 0.75 } as const;
export const DEFAULT_MAIN_LOOP_IN_FLIGHT = 64;

/** The guest's IOThreads, as the file gives them (checked before the devices that name them). */
function guestIothreads(place: Place): number {
  return valueAt(place.root, ["guest", "iothreads"]) as number;
}

const IOTHREAD_INDEX = integer(0, MAX_THREADS - 1, {
  allowed: (place) => `an IOThread index from 0 to ${guestIothreads(place) - 1} (guest.iothreads is ${guestIothreads(place)})`,
  accepts: (value, place) => typeof value !== "number" || value < guestIothreads(place),
});

const QUEUE_SIZES = Array.from({ length: Math.log2(MAX_QUEUE_SIZE / MIN_QUEUE_SIZE) + 1 }, (_, i) => MIN_QUEUE_SIZE << i);

const DEVICE = object(
  {
    name: optionalFrom(
      text("a non-empty string", true),
      (place) => `disk${place.path[place.path.length - 2] as number}`,
      `The device's name in reports, different for every device. Default: "disk<i>", i its index in the list.`,
    ),
    numQueues: required(integer(1, MAX_NUM_QUEUES), `Virtqueues (num-queues); at most ${MAX_NUM_QUEUES}, virtio's VIRTIO_QUEUE_MAX.`),
    queueSize: optional(
      oneOf(QUEUE_SIZES, `a power of two from ${MIN_QUEUE_SIZE} to ${MAX_QUEUE_SIZE}`),
      DEFAULT_QUEUE_SIZE,
      `Entries per virtqueue (queue-size): a power of two up to ${MAX_QUEUE_SIZE}, virtio's VIRTQUEUE_MAX_SIZE. Default: QEMU's ${DEFAULT_QUEUE_SIZE}.`,
    ),
    iothreads: optionalFrom(
      distinctList(IOTHREAD_INDEX, "An IOThread index, less than guest.iothreads.", MAX_THREADS),
      (place) => Array.from({ length: guestIothreads(place) }, (_, i) => i),
      "The IOThreads serving this device's queues, spread over them round-robin (QEMU's iothread-vq-mapping). " +
        "Indices less than guest.iothreads, no index twice. Default: all of the guest's IOThreads.",
    ),
  },
  { allowed: "an object with name, numQueues, queueSize and iothreads" },
);

/** Reports name the device, so two with one name would be ambiguous. */
function sameNames(devices: unknown[], place: Place): ItemsRefusal[] {
  const named = (index: number) => isPlainObject(devices[index]) && Object.hasOwn(devices[index], "name");
  const names = devices.map((device, index) => (named(index) ? (device as { name: unknown }).name : `disk${index}`));
  const item = (index: number) => pathText([...place.path, index]);
  const refusals: ItemsRefusal[] = [];
  names.forEach((name, index) => {
    const first = names.indexOf(name);
    if (first === index) return;
    // Blame a name the file wrote: defaults ("disk<i>") never clash with each
    // other, so when the later device has its default the earlier one wrote it.
    refusals.push(
      named(index)
        ? { path: [...place.path, index, "name"], what: notAllowed(name, `a name no other device has (${item(first)} has it)`) }
        : { path: [...place.path, first, "name"], what: notAllowed(name, `a name no other device has (${item(index)} has it by default)`) },
    );
  });
  return refusals;
}

const GUEST = object(
  {
    iothreads: required(THREADS, `IOThreads, from 1 to ${MAX_THREADS}: one worker thread each.`),
    mainLoop: optional(BOOLEAN, true, "QEMU's main loop runs coroutines too: when true it is one more thread (iothreads + 1 in all)."),
    devices: required(
      list({
        item: DEVICE,
        itemDescription: "A virtio-blk device: it raises the pool size by numQueues × queueSize / 2, as QEMU does at realize.",
        maxItems: MAX_DEVICES,
        allowed: `a list of 1 to ${MAX_DEVICES} devices`,
        acrossItems: sameNames,
      }),
      `The guest's virtio-blk devices, 1 to ${MAX_DEVICES}.`,
    ),
  },
  { allowed: "an object with iothreads, mainLoop and devices" },
);

const IN_FLIGHT_MIN = numberIn(0, 1, "a fraction greater than 0 and at most 1", true);

const IN_FLIGHT = object(
  {
    min: required(IN_FLIGHT_MIN, "The smallest fraction, greater than 0 and at most 1."),
    max: required(
      {
        ...numberIn(0, 1, (place) => `a fraction from ${inFlightMin(place)} (inFlight.min) to 1`, true),
        accepts: (value, place) => typeof value !== "number" || value >= inFlightMin(place),
      },
      "The largest fraction, from inFlight.min to 1.",
    ),
  },
  { allowed: "an object {min, max} of fractions with 0 < min <= max <= 1" },
);

function inFlightMin(place: Place): number {
  return valueAt(place.root, ["inFlight", "min"]) as number;
}

export const STRESS_FILE = kindFile(
  "vma-exhaustion",
  "vma-exhaustion: a guest's devices raise the pool size as in QEMU, and every thread has a burst of requests in flight, round after round.",
  {
    description: DESCRIPTION,
    guest: required(GUEST, "The guest: its IOThreads, whether the main loop runs coroutines, and its virtio-blk devices."),
    rounds: optional(ROUNDS, DEFAULT_STRESS_ROUNDS, "Rounds of bursts: each thread puts its burst in flight, all wait at the peak, then complete."),
    inFlight: optional(
      IN_FLIGHT,
      { ...DEFAULT_STRESS_IN_FLIGHT },
      "Requests in flight on an IOThread in one round, as a fraction of the queue entries it serves, drawn uniformly from [min, max] per thread and round.",
    ),
    mainLoopInFlight: optional(
      integer(0, MAX_COROUTINES_PER_THREAD),
      DEFAULT_MAIN_LOOP_IN_FLIGHT,
      `Requests in flight on the main loop per round (it serves no queues); ignored when guest.mainLoop is false.`,
    ),
    maxMapCount: MAX_MAP_COUNT,
    seed: SEED,
  },
);
