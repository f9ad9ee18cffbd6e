// The gateway's heartbeat: every 2 s it writes its entry in the registry of running gateways (who
// it is, what it runs, the configuration it applied) and reads the others', to know how many
// gateways are live (GATEWAY_FAILURE_MODE=local shares each limit among them). When the registry
// cannot be read, the last count stands: a Redis outage is exactly when local mode needs it.
// Entries not heard from for a day are removed, so a fleet that rolls often does not pile up
// dead gateways; on close the gateway removes its own.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import {
  FORGET_AFTER_MS,
  HEARTBEAT_INTERVAL_MS,
  liveGateways,
  type GatewayBeat,
  type GatewayRegistry,
} from '../../../contracts/gateway-registry.js';
import { TOLLGATE_VERSION } from '../../../contracts/version.js';

/** The configuration a gateway has applied: the feed's epoch and its last version. */
export interface AppliedConfig {
  readonly epoch: string;
  readonly version: number;
}

export interface HeartbeatOptions {
  readonly registry: GatewayRegistry;
  readonly logger: Logger;
  /** Worker processes of this gateway (1 without GATEWAY_WORKERS). */
  readonly workers: number;
  /** What it has applied now (with workers: the oldest of theirs). */
  readonly applied: () => AppliedConfig | Promise<AppliedConfig>;
  readonly intervalMs?: number;
  /** Told the count of live gateways after each beat that read it (a primary passes it on). */
  readonly onLive?: (live: number) => void;
  /** Epoch ms; default Date.now. */
  readonly now?: () => number;
}

export function newGatewayId(): string {
  return `gw_${randomBytes(9).toString('base64url')}`;
}

export class Heartbeat {
  readonly id = newGatewayId();
  private readonly startedAt: string;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  private live = 1;
  /** The beat in flight; a slow registry skips beats rather than queueing them. */
  private beating: Promise<void> | null = null;
  private closed = false;
  private failing = false;

  constructor(private readonly options: HeartbeatOptions) {
    this.now = options.now ?? Date.now;
    this.startedAt = new Date(this.now()).toISOString();
  }

  /** Writes the first beat now, then one every interval. */
  start(): void {
    const interval = this.options.intervalMs ?? HEARTBEAT_INTERVAL_MS;
    const tick = (): void => {
      if (this.beating !== null) return;
      this.beating = withTimeout(this.beat(), interval * 2).finally(() => (this.beating = null));
    };
    tick();
    this.timer = setInterval(tick, interval);
    this.timer.unref();
  }

  /** Live gateways, this one included, at the last beat that could read the registry. */
  liveGateways(): number {
    return this.live;
  }

  /** One beat: write this gateway's entry, count the live ones, forget the long gone. */
  async beat(): Promise<void> {
    if (this.closed) return;
    try {
      const applied = await this.options.applied();
      const nowMs = this.now();
      const entry: GatewayBeat = {
        id: this.id,
        host: hostname(),
        version: TOLLGATE_VERSION,
        started_at: this.startedAt,
        workers: this.options.workers,
        epoch: applied.epoch,
        applied_revision: applied.version,
        seen_at_ms: nowMs,
      };
      await this.options.registry.beat(entry);
      const entries = await this.options.registry.list();
      this.live = Math.max(1, liveGateways(entries, nowMs).length);
      const forgotten = entries.filter((one) => nowMs - one.seen_at_ms > FORGET_AFTER_MS).map((one) => one.id);
      await this.options.registry.remove(forgotten);
      this.options.onLive?.(this.live);
      if (this.failing) this.options.logger.info({ live_gateways: this.live }, 'heartbeat written again');
      this.failing = false;
    } catch (error) {
      if (!this.failing) this.options.logger.warn({ err: error, live_gateways: this.live }, 'heartbeat failed; keeping the last count of live gateways');
      this.failing = true;
    }
  }

  /** Stops beating and removes this gateway's entry (best effort: it goes stale otherwise). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    await this.beating;
    await withTimeout(this.options.registry.remove([this.id]), 1000).catch(() => {});
  }
}

/** Settles when `work` does, or quietly after `ms` (the work may finish later, unobserved). */
function withTimeout(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    timer.unref();
  });
  return Promise.race([work.catch(() => {}), expired]).finally(() => clearTimeout(timer));
}
