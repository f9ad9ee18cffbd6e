// A bounded FIFO of request events on a ring buffer: push and drop-oldest are O(1), so recording an
// event costs the hot path an array store, whatever the backlog while Redis is away.
import type { RequestEvent } from '../../../contracts/request-event.js';

export class EventQueue {
  readonly #slots: (RequestEvent | undefined)[];
  #head = 0;
  #size = 0;

  constructor(readonly capacity: number) {
    this.#slots = new Array<RequestEvent | undefined>(capacity);
  }

  get size(): number {
    return this.#size;
  }

  /** Appends; when full, the oldest event gives way. Returns how many events were dropped (0 or 1). */
  push(event: RequestEvent): number {
    const capacity = this.capacity;
    if (this.#size === capacity) {
      this.#slots[(this.#head + this.#size) % capacity] = event;
      this.#head = (this.#head + 1) % capacity;
      return 1;
    }
    this.#slots[(this.#head + this.#size) % capacity] = event;
    this.#size += 1;
    return 0;
  }

  /** Removes and returns up to `count` of the oldest events. */
  take(count: number): RequestEvent[] {
    const n = Math.min(count, this.#size);
    const out = new Array<RequestEvent>(n);
    const capacity = this.capacity;
    for (let i = 0; i < n; i += 1) {
      const index = (this.#head + i) % capacity;
      out[i] = this.#slots[index] as RequestEvent;
      this.#slots[index] = undefined;
    }
    this.#head = (this.#head + n) % capacity;
    this.#size -= n;
    return out;
  }

  /**
   * Puts events that failed to send back at the front, oldest first. They are older than anything
   * queued since, so when there is no room the oldest of them are the ones dropped.
   * Returns how many were dropped.
   */
  unshiftAll(events: readonly RequestEvent[]): number {
    const room = this.capacity - this.#size;
    const keep = Math.min(room, events.length);
    const dropped = events.length - keep;
    const capacity = this.capacity;
    for (let i = events.length - 1; i >= dropped; i -= 1) {
      this.#head = (this.#head - 1 + capacity) % capacity;
      this.#slots[this.#head] = events[i];
      this.#size += 1;
    }
    return dropped;
  }
}
