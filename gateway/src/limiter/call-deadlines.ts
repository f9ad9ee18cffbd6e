// The budget of each Redis call (GATEWAY_REDIS_TIMEOUT_MS), counted from when the call was written
// to Redis, not from when a request started waiting for it: a gateway whose CPU is saturated may
// hold checks in its own queue for long, and that is not Redis being slow.
//
// One timer serves every call: all budgets are equal, so deadlines come in the order calls were
// sent. When a deadline passes, the verdict waits for one more poll of the sockets (setImmediate
// runs after the event loop's I/O phase): an event loop that ran late would otherwise fire the
// timer before reading a reply that had arrived in time, and blame Redis for the gateway's own lag.
import { performance } from 'node:perf_hooks';
import { StoreUnavailableError, answerEach } from './store.js';

export interface DeadlineCall {
  /** Answered or expired: the deadline no longer matters. */
  readonly settled: boolean;
  readonly deadlineMs: number;
  /** The budget passed with no answer. */
  expire(error: StoreUnavailableError): void;
}

export class CallDeadlines {
  // Calls in flight, oldest first; settled ones at the head are dropped as they settle.
  private readonly calls: (DeadlineCall | undefined)[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    readonly timeoutMs: number,
    private readonly now: () => number = performance.now.bind(performance),
  ) {}

  /** The deadline of a call written now. */
  deadlineFromNow(): number {
    return this.now() + this.timeoutMs;
  }

  /** Calls watched and not yet released (unanswered ones, and answered ones behind them). */
  get watched(): number {
    return this.calls.length - this.head;
  }

  watch(call: DeadlineCall): void {
    this.calls.push(call);
    if (this.timer === null && !this.closed) this.arm(this.timeoutMs);
  }

  /**
   * Drops the settled calls at the head (answers come back in about the order sent), so a call is
   * garbage as soon as it is answered rather than when the timer next runs.
   */
  release(): void {
    let head = this.head;
    while (head < this.calls.length && (this.calls[head] as DeadlineCall).settled) {
      this.calls[head] = undefined;
      head += 1;
    }
    this.moveHead(head);
  }

  close(): void {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(delayMs: number): void {
    this.timer = setTimeout(this.fired, Math.max(1, Math.ceil(delayMs)));
    this.timer.unref();
  }

  private readonly fired = (): void => {
    this.timer = null;
    // Replies that arrived while the loop was busy are read in this turn's I/O phase, before this.
    setImmediate(this.judge);
  };

  private readonly judge = (): void => {
    if (this.closed) return;
    const nowMs = this.now();
    const calls = this.calls;
    let head = this.head;
    const late: DeadlineCall[] = [];
    while (head < calls.length) {
      const call = calls[head] as DeadlineCall;
      if (!call.settled) {
        if (call.deadlineMs > nowMs) break;
        late.push(call);
      }
      calls[head] = undefined;
      head += 1;
    }
    this.moveHead(head);
    if (this.head < calls.length) this.arm((calls[this.head] as DeadlineCall).deadlineMs - nowMs);
    if (late.length === 0) return;
    const error = new StoreUnavailableError(`redis did not answer within ${this.timeoutMs} ms`);
    answerEach(late, (call) => call.expire(error));
  };

  /** Sets the head; an emptied queue is reset, a mostly consumed one moved to the front. */
  private moveHead(head: number): void {
    const calls = this.calls;
    if (head === calls.length) {
      calls.length = 0;
      head = 0;
    } else if (head > 1024 && head * 2 > calls.length) {
      calls.copyWithin(0, head);
      calls.length -= head;
      head = 0;
    }
    this.head = head;
  }
}

/**
 * `call`, or a StoreUnavailableError once `timeoutMs` passed without its answer, judged like the
 * deadlines above: after one more poll of the sockets, so an answer that arrived in time but was read
 * late (the event loop was busy) still counts.
 */
export function withConfirmedTimeout<T>(call: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      setImmediate(() => {
        if (settled) return;
        settled = true;
        reject(new StoreUnavailableError(`${what} within ${timeoutMs} ms`));
      });
    }, timeoutMs);
    call.then(
      (value) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
