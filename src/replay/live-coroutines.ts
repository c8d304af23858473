/**
 * The coroutines live at this point of a trace or log, by their key (a trace
 * name, a QEMU coroutine address), each with a dense id that is reused once
 * its coroutine has terminated. Memory follows the live set, never the input.
 */
export class LiveCoroutines<K> {
  private readonly ids = new Map<K, number>();
  private readonly freeIds: number[] = [];
  private nextId = 0;
  /** The most coroutines live at once so far. */
  maxLive = 0;
  /** Creates so far. */
  creates = 0;

  get size(): number {
    return this.ids.size;
  }

  /** The id of the live coroutine `key`, or -1. */
  idOf(key: K): number {
    const id = this.ids.get(key);
    return id === undefined ? -1 : id;
  }

  /** `key` starts: a fresh id (the caller made sure it is not live). */
  start(key: K): number {
    const id = this.freeIds.length > 0 ? this.freeIds.pop()! : this.nextId++;
    this.ids.set(key, id);
    this.creates++;
    if (this.ids.size > this.maxLive) this.maxLive = this.ids.size;
    return id;
  }

  /** `key` terminates: its id, now free, or -1 when it was not live. */
  end(key: K): number {
    const id = this.ids.get(key);
    if (id === undefined) return -1;
    this.ids.delete(key);
    this.freeIds.push(id);
    return id;
  }
}
