// The circuit breaker in front of Redis: a dead Redis costs no latency per request, and the
// gateway's idea of "Redis is up" (tollgate_gateway_redis_up, /readyz) follows Redis within 2 s.
//
// It opens only on evidence about Redis itself: `failureThreshold` calls in a row that Redis
// answered with an error or did not answer within their budget (counted from when each call was
// written, see call-deadlines.ts), or a failed PING. A busy gateway whose checks wait in its own
// queue is not evidence: those waits never reach the breaker.
//
// While open, a PING every `probeIntervalMs` is the half-open probe: one success closes it. While
// closed and idle, a PING every `idleProbeMs` keeps `isUp` true to Redis's state.
import { performance } from 'node:perf_hooks';
import { withConfirmedTimeout } from './call-deadlines.js';

export interface BreakerOptions {
  /** Resolves when Redis answers a PING. */
  readonly ping: () => Promise<unknown>;
  /** Failed calls in a row that open the breaker; default 3. */
  readonly failureThreshold?: number;
  /** PING period while open; default 500. */
  readonly probeIntervalMs?: number;
  /** PING when nothing succeeded for this long while closed; default 1000. */
  readonly idleProbeMs?: number;
  /** Budget of one PING; default 500. */
  readonly pingTimeoutMs?: number;
}

export interface StoreHealth {
  /** True while Redis answers; false until its first answer. */
  readonly isUp: boolean;
  /** Adds a listener for `isUp` changes; returns a function that removes it. */
  subscribe(listener: (up: boolean) => void): () => void;
}

export class Breaker implements StoreHealth {
  private up = false;
  private opened = false;
  private failures = 0;
  private lastSuccessMs = 0;
  private probing = false;
  private closed = false;
  private readonly listeners = new Set<(up: boolean) => void>();
  private readonly timer: NodeJS.Timeout;
  private readonly ping: () => Promise<unknown>;
  private readonly failureThreshold: number;
  private readonly idleProbeMs: number;
  private readonly pingTimeoutMs: number;

  constructor(options: BreakerOptions) {
    this.ping = options.ping;
    this.failureThreshold = options.failureThreshold ?? 3;
    this.idleProbeMs = options.idleProbeMs ?? 1000;
    this.pingTimeoutMs = options.pingTimeoutMs ?? 500;
    const probeIntervalMs = options.probeIntervalMs ?? 500;
    this.timer = setInterval(() => this.tick(), Math.min(probeIntervalMs, this.idleProbeMs));
    this.timer.unref();
    // Closed from the start: the first calls go to Redis while the first PING is on its way, and
    // only evidence opens it.
    this.probe();
  }

  get isUp(): boolean {
    return this.up;
  }

  /** Calls fail at once without going to Redis. */
  get isOpen(): boolean {
    return this.opened;
  }

  subscribe(listener: (up: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Redis answered a call. */
  succeeded(): void {
    this.lastSuccessMs = performance.now();
    this.failures = 0;
    this.opened = false;
    this.setUp(true);
  }

  /** Redis answered a call with an error, or did not answer it within its budget. */
  failed(): void {
    this.failures += 1;
    if (this.failures >= this.failureThreshold) this.open();
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
  }

  private open(): void {
    this.opened = true;
    this.setUp(false);
  }

  private tick(): void {
    if (this.opened || performance.now() - this.lastSuccessMs >= this.idleProbeMs) this.probe();
  }

  private probe(): void {
    if (this.probing || this.closed) return;
    this.probing = true;
    withConfirmedTimeout(this.ping(), this.pingTimeoutMs, 'redis did not answer a PING').then(
      () => {
        this.probing = false;
        this.succeeded();
      },
      () => {
        this.probing = false;
        this.open();
      },
    );
  }

  private setUp(up: boolean): void {
    if (this.up === up || this.closed) return;
    this.up = up;
    for (const listener of this.listeners) listener(up);
  }
}
