// Wraps a store with the per-call budget (GATEWAY_REDIS_TIMEOUT_MS) and a circuit breaker, so a
// frozen Redis cannot stall requests and a dead one costs no latency per request (DESIGN.md
// "Limiting"). Failures surface as StoreUnavailableError; the hot path maps it to the failure mode.
//
// States: closed (calls go to the store; `failureThreshold` consecutive failures open it) and open
// (calls fail at once). While open, a PING every `probeIntervalMs` is the half-open probe: one
// success closes the breaker. While closed and idle, a PING every `idleProbeMs` keeps `isUp` true to
// Redis's state (SPEC: within 2 s); a failed probe opens the breaker at once.
import { performance } from 'node:perf_hooks';
import { answerEach, consumeAsPromise, type LimitCheck, type RateLimitStore, type ReplyReceiver, type StoreReply } from './store.js';

export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  readonly code = 'STORE_UNAVAILABLE';
}

export interface GuardedStoreOptions {
  readonly store: RateLimitStore;
  /** Budget of one call (GATEWAY_REDIS_TIMEOUT_MS); default 100. */
  readonly timeoutMs?: number;
  /** Consecutive failed calls that open the breaker; default 3. */
  readonly failureThreshold?: number;
  /** PING period while open; default 500. */
  readonly probeIntervalMs?: number;
  /** PING when nothing succeeded for this long while closed; default 1000. */
  readonly idleProbeMs?: number;
  /** Budget of one PING; default 500. */
  readonly pingTimeoutMs?: number;
  /** Called with the new state whenever `isUp` changes. */
  readonly onChange?: (up: boolean) => void;
}

export interface GuardedStore extends RateLimitStore {
  /** True while the store answers (tollgate_gateway_redis_up, /readyz). False until the first answer. */
  readonly isUp: boolean;
  /** Calls held for their deadline: unanswered ones, and answered ones behind an unanswered one. */
  readonly held: number;
  /** Adds a listener for `isUp` changes; returns a function that removes it. */
  subscribe(listener: (up: boolean) => void): () => void;
}

const OPEN_ERROR_MESSAGE = 'limiter store unavailable (circuit open)';

/**
 * One call waiting for the store, and the receiver the store answers: it settles once, whichever
 * comes first of the store's answer and the deadline. Calls share one timeout timer: their deadlines
 * are in FIFO order.
 */
class PendingCall implements ReplyReceiver {
  settled = false;
  constructor(
    private readonly guard: Guarded,
    readonly deadlineMs: number,
    private readonly receiver: ReplyReceiver,
  ) {}

  received(reply: StoreReply): void {
    if (this.settled) return;
    this.settled = true;
    this.guard.answered(true);
    this.receiver.received(reply);
  }

  failed(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.guard.answered(false);
    this.receiver.failed(error instanceof StoreUnavailableError ? error : new StoreUnavailableError('limiter store call failed', { cause: error }));
  }

  /** The deadline passed first. */
  expired(error: StoreUnavailableError): void {
    this.settled = true;
    this.receiver.failed(error);
  }
}

class Guarded implements GuardedStore {
  private up = false;
  private open = false;
  private failures = 0;
  private lastSuccessMs = 0;
  private probing = false;
  private closed = false;
  private readonly listeners = new Set<(up: boolean) => void>();
  private readonly timer: NodeJS.Timeout;
  private readonly store: RateLimitStore;
  private readonly timeoutMs: number;
  private readonly failureThreshold: number;
  private readonly idleProbeMs: number;
  private readonly pingTimeoutMs: number;
  // Calls in flight, oldest first (the budget is the same for all, so also by deadline), and the
  // one timer that fires at the oldest one's deadline: no timer per call (DESIGN.md "Limiting").
  private readonly pending: (PendingCall | undefined)[] = [];
  private pendingHead = 0;
  private deadlineTimer: NodeJS.Timeout | null = null;
  // While the breaker is open every call fails at once with this one error (no stack per request).
  private readonly openError = new StoreUnavailableError(OPEN_ERROR_MESSAGE);

  constructor(options: GuardedStoreOptions) {
    this.store = options.store;
    this.timeoutMs = options.timeoutMs ?? 100;
    this.failureThreshold = options.failureThreshold ?? 3;
    this.idleProbeMs = options.idleProbeMs ?? 1000;
    this.pingTimeoutMs = options.pingTimeoutMs ?? 500;
    if (options.onChange) this.listeners.add(options.onChange);
    const probeIntervalMs = options.probeIntervalMs ?? 500;
    this.timer = setInterval(() => this.tick(), Math.min(probeIntervalMs, this.idleProbeMs));
    this.timer.unref();
    this.probe();
  }

  get isUp(): boolean {
    return this.up;
  }

  get held(): number {
    return this.pending.length - this.pendingHead;
  }

  subscribe(listener: (up: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  consume(check: LimitCheck): Promise<StoreReply> {
    return consumeAsPromise(this, check);
  }

  consumeTo(check: LimitCheck, receiver: ReplyReceiver): void {
    if (this.open) {
      receiver.failed(this.openError);
      return;
    }
    this.store.consumeTo(check, this.track(receiver));
  }

  peek(check: LimitCheck): Promise<StoreReply> {
    if (this.open) return Promise.reject(this.openError);
    return new Promise<StoreReply>((resolve, reject) => {
      const pending = this.track({ received: resolve, failed: reject });
      this.store.peek(check).then(
        (reply) => pending.received(reply),
        (error: unknown) => pending.failed(error),
      );
    });
  }

  async ping(): Promise<void> {
    await withTimeout(this.pingStore(), this.pingTimeoutMs);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.store.close();
    if (this.deadlineTimer !== null) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = null;
  }

  /** A call the deadline timer watches, answering `receiver`. */
  private track(receiver: ReplyReceiver): PendingCall {
    const pending = new PendingCall(this, performance.now() + this.timeoutMs, receiver);
    this.pending.push(pending);
    if (this.deadlineTimer === null) this.armDeadline(this.timeoutMs);
    return pending;
  }

  /** A tracked call got the store's answer (`ok`) or error. */
  answered(ok: boolean): void {
    this.releaseSettled();
    if (ok) this.succeeded();
    else this.failed(false);
  }

  /**
   * Drops the answered calls at the head of the queue (answers come back in about FIFO order), so a
   * call is garbage as soon as it is answered, not when the deadline timer next runs: kept for that
   * long, every call and its reply outlived a young-generation GC and was copied to the old one.
   */
  private releaseSettled(): void {
    const pending = this.pending;
    let head = this.pendingHead;
    while (head < pending.length && (pending[head] as PendingCall).settled) {
      pending[head] = undefined;
      head += 1;
    }
    this.moveHead(head);
  }

  /** Sets the queue's head; an emptied queue is reset, a mostly consumed one moved to the front. */
  private moveHead(head: number): void {
    const pending = this.pending;
    if (head === pending.length) {
      pending.length = 0;
      head = 0;
    } else if (head > 1024 && head * 2 > pending.length) {
      pending.copyWithin(0, head);
      pending.length -= head;
      head = 0;
    }
    this.pendingHead = head;
  }

  private armDeadline(delayMs: number): void {
    this.deadlineTimer = setTimeout(this.expire, Math.max(1, Math.ceil(delayMs)));
  }

  /** Fails every call past its deadline (one error for all of them), then waits for the next one. */
  private readonly expire = (): void => {
    this.deadlineTimer = null;
    const nowMs = performance.now();
    const pending = this.pending;
    let head = this.pendingHead;
    const late: PendingCall[] = [];
    while (head < pending.length) {
      const call = pending[head] as PendingCall;
      if (!call.settled) {
        if (call.deadlineMs > nowMs) break;
        late.push(call);
        this.failed(false);
      }
      pending[head] = undefined;
      head += 1;
    }
    this.moveHead(head);
    if (pending.length > 0) this.armDeadline((pending[this.pendingHead] as PendingCall).deadlineMs - nowMs);
    // The queue is in order before anyone is answered: an answer runs request code.
    if (late.length > 0) {
      const error = new StoreUnavailableError(`limiter store did not answer within ${this.timeoutMs} ms`);
      answerEach(late, (call) => call.expired(error));
    }
  };

  private pingStore(): Promise<void> {
    return this.store.ping ? this.store.ping() : Promise.resolve();
  }

  private tick(): void {
    if (this.open || performance.now() - this.lastSuccessMs >= this.idleProbeMs) this.probe();
  }

  private probe(): void {
    if (this.probing || this.closed) return;
    this.probing = true;
    withTimeout(this.pingStore(), this.pingTimeoutMs).then(
      () => {
        this.probing = false;
        this.succeeded();
      },
      () => {
        this.probing = false;
        this.failed(true);
      },
    );
  }

  private succeeded(): void {
    this.lastSuccessMs = performance.now();
    this.failures = 0;
    this.open = false;
    this.setUp(true);
  }

  private failed(fromProbe: boolean): void {
    this.failures += 1;
    if (fromProbe || this.failures >= this.failureThreshold) {
      this.open = true;
      this.setUp(false);
    }
  }

  private setUp(up: boolean): void {
    if (this.up === up || this.closed) return;
    this.up = up;
    for (const listener of this.listeners) listener(up);
  }
}

export function createGuardedStore(options: GuardedStoreOptions): GuardedStore {
  return new Guarded(options);
}

function withTimeout<T>(call: Promise<T>, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new StoreUnavailableError(`limiter store did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    call.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
