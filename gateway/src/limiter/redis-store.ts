// RateLimitStore on Redis: the Lua scripts of contracts/lua decide every check atomically with
// Redis TIME. Checks, peeks and concurrency slot updates go through group commit (group-commit.ts),
// so those of one event-loop turn share one script call; on a Redis Cluster one call may only touch
// one hash slot, so a batch is split by subject there.
//
// Failure handling lives here, at the level of script calls: the breaker (breaker.ts) fails checks
// at once while Redis is known to be down, each call gets the budget GATEWAY_REDIS_TIMEOUT_MS from
// when it is written (call-deadlines.ts), and more queued checks than the queue holds are refused
// as overload, never let through unchecked.
import { createLimiterScripts } from '../../../contracts/lua/scripts.js';
import type { LimiterScripts, ScriptReply, SlotOperation } from '../../../contracts/lua/scripts.js';
import type { RedisConnection } from '../../../contracts/redis-connection.js';
import { Breaker, type StoreHealth } from './breaker.js';
import { CallDeadlines, type DeadlineCall } from './call-deadlines.js';
import { GroupCommit } from './group-commit.js';
import {
  StoreOverloadedError,
  StoreUnavailableError,
  answerEach,
  type LimitCheck,
  type RateLimitStore,
  type ReplyReceiver,
} from './store.js';

export interface RedisStoreOptions {
  readonly client: RedisConnection;
  /** REDIS_KEY_PREFIX. */
  readonly prefix: string;
  /** Budget of one script call from when it is written (GATEWAY_REDIS_TIMEOUT_MS); default 100. */
  readonly timeoutMs?: number;
  /** Most checks in one script call before it goes out early; default 256. */
  readonly maxBatch?: number;
  /** How long calls in flight may hold the next checks back (group commit); default 20 ms. */
  readonly maxHoldMs?: number;
  /** Checks that may wait for Redis at once; more are refused as overload; default 20 000. */
  readonly maxQueued?: number;
  /** Failed calls in a row that open the breaker; default 3. */
  readonly failureThreshold?: number;
  /** PING period while the breaker is open; default 500. */
  readonly probeIntervalMs?: number;
  /** Quit the client on close(); default false (the composition root owns it). */
  readonly ownsClient?: boolean;
}

type ScriptCall = LimiterScripts['consume'];

/** One script call in flight: answered, failed or expired, whichever comes first, once. */
class SentCall implements DeadlineCall {
  settled = false;

  constructor(
    private readonly store: RedisStore,
    private readonly receivers: readonly ReplyReceiver[],
    private readonly done: () => void,
    readonly deadlineMs: number,
  ) {}

  answered(replies: readonly ScriptReply[]): void {
    if (this.settled) return;
    this.settle(true);
    answerEach(this.receivers, (receiver, i) => receiver.received(replies[i] as ScriptReply));
  }

  failed(error: unknown): void {
    if (this.settled) return;
    this.settle(false);
    const unavailable = new StoreUnavailableError('redis could not run the limiter script', { cause: error });
    answerEach(this.receivers, (receiver) => receiver.failed(unavailable));
  }

  expire(error: StoreUnavailableError): void {
    this.settle(false);
    answerEach(this.receivers, (receiver) => receiver.failed(error));
  }

  private settle(ok: boolean): void {
    this.settled = true;
    this.done();
    this.store.callSettled(ok);
  }
}

export class RedisStore implements RateLimitStore {
  /** Whether Redis answers: tollgate_gateway_redis_up and /readyz read it. */
  readonly health: StoreHealth;
  private readonly client: RedisConnection;
  private readonly scripts: LimiterScripts;
  private readonly breaker: Breaker;
  private readonly deadlines: CallDeadlines;
  private readonly consumes: GroupCommit<LimitCheck, ReplyReceiver>;
  private readonly peeks: GroupCommit<LimitCheck, ReplyReceiver>;
  /** Concurrency slot releases and renewals, batched like checks; the lease rides along. */
  private readonly slotUpdates: GroupCommit<SlotOperation, number>;
  private readonly ownsClient: boolean;
  private readonly cluster: boolean;
  // While the breaker is open every check fails with these (no stack per request).
  private readonly openError = new StoreUnavailableError('redis is unavailable (circuit open)');
  private readonly overloadError = new StoreOverloadedError('too many checks are waiting for redis');

  constructor(options: RedisStoreOptions) {
    this.client = options.client;
    this.scripts = createLimiterScripts(options.client, options.prefix);
    this.ownsClient = options.ownsClient ?? false;
    this.cluster = options.client.isCluster;
    this.breaker = new Breaker({
      ping: () => this.client.ping(),
      failureThreshold: options.failureThreshold,
      probeIntervalMs: options.probeIntervalMs,
    });
    this.health = this.breaker;
    this.deadlines = new CallDeadlines(options.timeoutMs ?? 100);
    const batching = { maxBatch: options.maxBatch, maxHoldMs: options.maxHoldMs, maxQueued: options.maxQueued };
    this.consumes = new GroupCommit({ ...batching, send: (checks, receivers, done) => this.send(this.scripts.consume, checks, receivers, done) });
    this.peeks = new GroupCommit({ ...batching, send: (checks, receivers, done) => this.send(this.scripts.peek, checks, receivers, done) });
    this.slotUpdates = new GroupCommit({ ...batching, send: (operations, leases, done) => this.sendSlots(operations, leases, done) });
  }

  /** Script calls sent so far (consume and peek): shows how well batching works. */
  get scriptCalls(): number {
    return this.consumes.sent + this.peeks.sent;
  }

  /** Slot releases and renewals that failed (Redis away): their slots end with their lease. */
  slotUpdateFailures = 0;

  /** Script calls watched by the deadline timer (unanswered ones, and answered ones behind them). */
  get callsInFlight(): number {
    return this.deadlines.watched;
  }

  consume(check: LimitCheck, receiver: ReplyReceiver): void {
    this.enqueue(this.consumes, check, receiver);
  }

  peek(check: LimitCheck, receiver: ReplyReceiver): void {
    this.enqueue(this.peeks, check, receiver);
  }

  updateSlot(operation: SlotOperation, leaseMs: number): void {
    // A lost update costs nothing worse than a slot held until its lease ends.
    if (this.breaker.isOpen || !this.slotUpdates.add(operation, leaseMs)) this.slotUpdateFailures += 1;
  }

  async close(): Promise<void> {
    this.consumes.close();
    this.peeks.close();
    this.slotUpdates.close();
    this.breaker.close();
    this.deadlines.close();
    if (this.ownsClient) await this.client.quit();
  }

  /** A call settled: answered (`ok`), or failed or expired (evidence for the breaker). */
  callSettled(ok: boolean): void {
    this.deadlines.release();
    if (ok) this.breaker.succeeded();
    else this.breaker.failed();
  }

  private enqueue(queue: GroupCommit<LimitCheck, ReplyReceiver>, check: LimitCheck, receiver: ReplyReceiver): void {
    if (this.breaker.isOpen) receiver.failed(this.openError);
    else if (!queue.add(check, receiver)) receiver.failed(this.overloadError);
  }

  private send(script: ScriptCall, checks: LimitCheck[], receivers: ReplyReceiver[], done: () => void): void {
    if (this.breaker.isOpen) {
      // The breaker opened while these waited.
      done();
      answerEach(receivers, (receiver) => receiver.failed(this.openError));
      return;
    }
    if (!this.cluster || checks.length === 1) {
      this.call(script, checks, receivers, done);
      return;
    }
    const groups = new Map<string, number[]>();
    for (let i = 0; i < checks.length; i += 1) {
      const subject = (checks[i] as LimitCheck).subject;
      const group = groups.get(subject);
      if (group) group.push(i);
      else groups.set(subject, [i]);
    }
    let left = groups.size;
    const groupDone = (): void => {
      left -= 1;
      if (left === 0) done();
    };
    for (const indexes of groups.values()) {
      this.call(
        script,
        indexes.map((i) => checks[i] as LimitCheck),
        indexes.map((i) => receivers[i] as ReplyReceiver),
        groupDone,
      );
    }
  }

  /** One slots call (on a Cluster, one per subject); failures only counted: leases end them. */
  private sendSlots(operations: SlotOperation[], leases: number[], done: () => void): void {
    const bySubject = new Map<string, SlotOperation[]>();
    for (const operation of operations) {
      if (!this.cluster) break;
      const group = bySubject.get(operation.subject);
      if (group) group.push(operation);
      else bySubject.set(operation.subject, [operation]);
    }
    const groups = this.cluster ? [...bySubject.values()] : [operations];
    // Every update of one batch carries the same lease (the gateway's setting).
    const leaseMs = leases[0] as number;
    let left = groups.length;
    for (const group of groups) {
      this.scripts.slots(group, leaseMs).then(
        () => {
          left -= 1;
          if (left === 0) done();
        },
        () => {
          this.slotUpdateFailures += group.length;
          left -= 1;
          if (left === 0) done();
        },
      );
    }
  }

  private call(script: ScriptCall, checks: LimitCheck[], receivers: ReplyReceiver[], done: () => void): void {
    const call = new SentCall(this, receivers, done, this.deadlines.deadlineFromNow());
    this.deadlines.watch(call);
    script(checks).then(
      (replies) => call.answered(replies),
      (error: unknown) => call.failed(error),
    );
  }
}
