// RateLimitStore on Redis: the Lua scripts of contracts/lua decide every check atomically with Redis
// TIME. With `batching` on (the default), the checks that arrive in one event-loop turn share one
// script call (SPEC §3 allows it): the call costs the gateway far less CPU than one ioredis command
// per request. On a Redis Cluster one call may only touch one hash slot, so a turn's checks are
// grouped by API key there.
//
// Group commit: while a turn's call is on its way, the checks of the turns after it wait for its
// reply and then go out together, so under load each call carries more checks (fewer calls: less CPU
// per check in the gateway and in Redis). A check waits at most one round trip more; a call slower
// than `maxHoldMs`, or a full batch, no longer holds anything back. With one call in flight at a time,
// a gateway sends Redis at most one call per round trip: a Redis that slows down under load gets
// fewer, larger calls, so it costs less per check just when that matters.
//
// There is no other wait. Holding checks back for a fixed interval under load (tried: 1 ms) made
// calls twice as large while Redis was far from busy, and cost the gateway about 8% of its
// throughput under the bench's 50 connections: every request waited for it (README "Algorithms").
import { performance } from 'node:perf_hooks';
import { createLimiterScripts } from '../../../contracts/lua/scripts.js';
import type { LimiterScripts, ScriptReply } from '../../../contracts/lua/scripts.js';
import type { RedisClient } from '../redis-client.js';
import { answerEach, consumeAsPromise, type LimitCheck, type RateLimitStore, type ReplyReceiver, type StoreReply } from './store.js';

export interface RedisStoreOptions {
  readonly client: RedisClient;
  /** REDIS_KEY_PREFIX. */
  readonly prefix: string;
  /** Share one script call among the checks of one event-loop turn; default true. */
  readonly batching?: boolean;
  /** Most checks in one script call; default 256. */
  readonly maxBatch?: number;
  /** How long calls in flight may hold the next checks back (group commit); default 20 ms. */
  readonly maxHoldMs?: number;
  /** Quit the client on close(); default false (the composition root owns it). */
  readonly ownsClient?: boolean;
}

export class RedisStore implements RateLimitStore {
  private readonly scripts: LimiterScripts;
  private readonly client: RedisClient;
  private readonly batching: boolean;
  private readonly maxBatch: number;
  private readonly maxHoldMs: number;
  private readonly ownsClient: boolean;
  private readonly cluster: boolean;
  // Pending checks of this turn and who gets each reply, as parallel arrays (no wrapper per request).
  private checks: LimitCheck[] = [];
  private receivers: ReplyReceiver[] = [];
  private scheduled = false;
  private calls = 0;
  /** Script calls sent and not yet answered, and when the oldest of them was sent. */
  private unanswered = 0;
  private oldestSentMs = 0;
  /** Checks are waiting for the calls in flight (flushed by callAnswered or the timer). */
  private held = false;
  /** The one timer that sends held checks, and when it fires. */
  private holdTimer: NodeJS.Timeout | null = null;
  private holdDeadlineMs = 0;

  constructor(options: RedisStoreOptions) {
    this.client = options.client;
    this.scripts = createLimiterScripts(options.client, options.prefix);
    this.batching = options.batching ?? true;
    this.maxBatch = options.maxBatch ?? 256;
    this.maxHoldMs = options.maxHoldMs ?? 20;
    this.ownsClient = options.ownsClient ?? false;
    this.cluster = options.client.isCluster;
  }

  /** Script calls sent so far (consume and peek): shows how well batching works. */
  get scriptCalls(): number {
    return this.calls;
  }

  consume(check: LimitCheck): Promise<StoreReply> {
    return consumeAsPromise(this, check);
  }

  consumeTo(check: LimitCheck, receiver: ReplyReceiver): void {
    if (!this.batching) {
      this.send([check], [receiver]);
      return;
    }
    this.checks.push(check);
    this.receivers.push(receiver);
    if (this.checks.length >= this.maxBatch) {
      this.flush();
    } else if (!this.scheduled) {
      this.scheduled = true;
      // setImmediate, not nextTick: it runs after every I/O callback of this loop turn, so all
      // the requests parsed in this turn join the batch.
      setImmediate(this.flushScheduled);
    }
  }

  peek(check: LimitCheck): Promise<StoreReply> {
    this.calls += 1;
    return this.scripts.peek([check]).then(first);
  }

  async ping(): Promise<void> {
    await this.client.ping();
  }

  async close(): Promise<void> {
    this.flush();
    if (this.ownsClient) await this.client.quit();
  }

  /** Ms the pending checks must still wait for the calls in flight (group commit); 0 or less when
   * they may go now. */
  private waitMs(now: number): number {
    return this.unanswered > 0 ? this.maxHoldMs - (now - this.oldestSentMs) : 0;
  }

  private readonly flushScheduled = (): void => {
    this.scheduled = false;
    this.flushOrHold();
  };

  private flushOrHold(): void {
    const wait = this.waitMs(performance.now());
    if (wait <= 0) {
      this.held = false;
      this.flush();
      return;
    }
    this.held = true;
    // The timer also frees checks held behind a call that never comes back.
    this.armHoldTimer(wait);
  }

  /** Arms the hold timer for `delayMs`, unless it is armed to fire sooner already. */
  private armHoldTimer(delayMs: number): void {
    const deadline = performance.now() + delayMs;
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
    if (this.held) this.flushOrHold();
  };

  private callAnswered(): void {
    this.unanswered -= 1;
    if (this.unanswered === 0 && this.held) this.flushOrHold();
  }

  private flush(): void {
    if (this.checks.length === 0) return;
    const checks = this.checks;
    const receivers = this.receivers;
    this.checks = [];
    this.receivers = [];
    if (!this.cluster || checks.length === 1) {
      this.send(checks, receivers);
      return;
    }
    const groups = new Map<string, number[]>();
    for (let i = 0; i < checks.length; i += 1) {
      const keyId = (checks[i] as LimitCheck).keyId;
      const group = groups.get(keyId);
      if (group) group.push(i);
      else groups.set(keyId, [i]);
    }
    for (const indexes of groups.values()) {
      this.send(
        indexes.map((i) => checks[i] as LimitCheck),
        indexes.map((i) => receivers[i] as ReplyReceiver),
      );
    }
  }

  private send(checks: LimitCheck[], receivers: ReplyReceiver[]): void {
    this.calls += 1;
    if (this.unanswered === 0) this.oldestSentMs = performance.now();
    this.unanswered += 1;
    this.scripts.consume(checks).then(
      (replies) => {
        this.callAnswered();
        answerEach(receivers, (receiver, i) => receiver.received(replies[i] as ScriptReply));
      },
      (error: unknown) => {
        this.callAnswered();
        answerEach(receivers, (receiver) => receiver.failed(error));
      },
    );
  }
}

function first(replies: ScriptReply[]): StoreReply {
  return replies[0] as ScriptReply;
}
