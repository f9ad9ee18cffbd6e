// Group commit for store calls: the items added in one event-loop turn go out as one batch, and
// while a batch is on its way the items of the turns after it wait for its answer and then go out
// together. Under load each call carries more items (fewer calls: less CPU per check in the gateway
// and in Redis), and a gateway sends at most one call per round trip, so a Redis that slows down
// gets fewer, larger calls just when that matters. An item waits at most one round trip more: a
// call slower than `maxHoldMs`, or a full batch, no longer holds anything back.
//
// There is no other wait. Holding items back for a fixed interval under load (tried: 1 ms) made
// calls twice as large while Redis was far from busy and cost about 8% of the gateway's throughput
// at 50 connections: every request waited for it.
//
// It knows nothing of Redis: `send` is given each batch and a `done` to call once it is answered.
import { performance } from 'node:perf_hooks';

export interface GroupCommitOptions<Item, Receiver> {
  /** Sends one batch (parallel arrays); calls `done` exactly once when the batch is answered. */
  readonly send: (items: Item[], receivers: Receiver[], done: () => void) => void;
  /** A batch this large goes out at once, calls in flight or not; default 256. */
  readonly maxBatch?: number;
  /** How long calls in flight may hold the next batch back; default 20 ms. */
  readonly maxHoldMs?: number;
  /** Items that may wait at once; `add` refuses more (the caller sheds them); default 20 000. */
  readonly maxQueued?: number;
  /** Monotonic ms; default performance.now. */
  readonly now?: () => number;
}

export class GroupCommit<Item, Receiver> {
  private readonly send: GroupCommitOptions<Item, Receiver>['send'];
  private readonly maxBatch: number;
  private readonly maxHoldMs: number;
  private readonly maxQueued: number;
  private readonly now: () => number;
  // Waiting items and who gets each answer, as parallel arrays (no wrapper object per item).
  private items: Item[] = [];
  private receivers: Receiver[] = [];
  private scheduled = false;
  /** Batches sent and not yet answered, and when the oldest of them was sent. */
  private unanswered = 0;
  private oldestSentMs = 0;
  /** Items wait for the calls in flight (sent by `answered` or by the hold timer). */
  private holding = false;
  private holdTimer: NodeJS.Timeout | null = null;
  private holdDeadlineMs = 0;
  private batches = 0;

  constructor(options: GroupCommitOptions<Item, Receiver>) {
    this.send = options.send;
    this.maxBatch = options.maxBatch ?? 256;
    this.maxHoldMs = options.maxHoldMs ?? 20;
    this.maxQueued = options.maxQueued ?? 20_000;
    this.now = options.now ?? performance.now.bind(performance);
  }

  /** Items waiting to be sent. */
  get queued(): number {
    return this.items.length;
  }

  /** Batches sent so far. */
  get sent(): number {
    return this.batches;
  }

  /** Queues one item; false (and nothing queued) when `maxQueued` items already wait. */
  add(item: Item, receiver: Receiver): boolean {
    if (this.items.length >= this.maxQueued) return false;
    this.items.push(item);
    this.receivers.push(receiver);
    if (this.items.length >= this.maxBatch) {
      this.flush();
    } else if (!this.scheduled) {
      this.scheduled = true;
      // setImmediate, not nextTick: it runs after every I/O callback of this loop turn, so all the
      // requests parsed in this turn join the batch.
      setImmediate(this.turnEnded);
    }
    return true;
  }

  /** Sends whatever waits, now (close, or a full batch). */
  flush(): void {
    this.holding = false;
    if (this.items.length === 0) return;
    const items = this.items;
    const receivers = this.receivers;
    this.items = [];
    this.receivers = [];
    this.batches += 1;
    if (this.unanswered === 0) this.oldestSentMs = this.now();
    this.unanswered += 1;
    this.send(items, receivers, this.answered);
  }

  /** Forgets the hold timer (the caller's close). */
  close(): void {
    this.flush();
    if (this.holdTimer !== null) clearTimeout(this.holdTimer);
    this.holdTimer = null;
  }

  private readonly turnEnded = (): void => {
    this.scheduled = false;
    this.flushOrHold();
  };

  private readonly answered = (): void => {
    this.unanswered -= 1;
    if (this.unanswered === 0 && this.holding) this.flushOrHold();
  };

  private flushOrHold(): void {
    const waitMs = this.unanswered > 0 ? this.maxHoldMs - (this.now() - this.oldestSentMs) : 0;
    if (waitMs <= 0) {
      this.flush();
      return;
    }
    this.holding = true;
    // The timer also frees items held behind a call that never comes back.
    this.armHoldTimer(waitMs);
  }

  private armHoldTimer(delayMs: number): void {
    const deadline = this.now() + delayMs;
    if (this.holdTimer !== null) {
      if (this.holdDeadlineMs <= deadline) return;
      clearTimeout(this.holdTimer);
    }
    this.holdDeadlineMs = deadline;
    this.holdTimer = setTimeout(this.holdExpired, delayMs);
    this.holdTimer.unref();
  }

  private readonly holdExpired = (): void => {
    this.holdTimer = null;
    if (this.holding) this.flushOrHold();
  };
}
