/**
 * Dense ids for the coroutines live at once, each handed out again once its
 * coroutine has terminated: arrays indexed by them stay as small as the live
 * set, whatever the length of the input.
 */
export class CoroutineIds {
  private free: Int32Array = new Int32Array(1024);
  private freeCount = 0;
  private nextId = 0;
  live = 0;
  /** The most coroutines live at once so far. */
  maxLive = 0;
  /** Ids handed out so far: coroutines created. */
  creates = 0;

  take(): number {
    this.creates++;
    if (++this.live > this.maxLive) this.maxLive = this.live;
    return this.freeCount > 0 ? this.free[--this.freeCount]! : this.nextId++;
  }

  give(id: number): void {
    this.live--;
    if (this.freeCount === this.free.length) {
      const grown = new Int32Array(2 * this.free.length);
      grown.set(this.free);
      this.free = grown;
    }
    this.free[this.freeCount++] = id;
  }
}

/** The live coroutines by a key of any kind (a trace name), with their ids. */
export class LiveCoroutines<K> {
  private readonly ids = new Map<K, number>();
  private readonly pool = new CoroutineIds();

  get maxLive(): number {
    return this.pool.maxLive;
  }

  get creates(): number {
    return this.pool.creates;
  }

  /** The id of the live coroutine `key`, or -1. */
  idOf(key: K): number {
    const id = this.ids.get(key);
    return id === undefined ? -1 : id;
  }

  /** `key` starts: a fresh id (the caller made sure it is not live). */
  start(key: K): number {
    const id = this.pool.take();
    this.ids.set(key, id);
    return id;
  }

  /** `key` terminates: its id, now free, or -1 when it was not live. */
  end(key: K): number {
    const id = this.ids.get(key);
    if (id === undefined) return -1;
    this.ids.delete(key);
    this.pool.give(id);
    return id;
  }
}
