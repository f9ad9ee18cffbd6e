// The admission step: every request the gateway limits (proxied HTTP, WebSocket upgrades) and every
// read of a key's limits (/_gateway/quota, the rate-limit fields of a 404) is decided here and
// nowhere else. It takes the key, its cost and a listener, and answers the listener once, maybe
// before it returns:
//   forward(headers)          admitted, or let through by GATEWAY_FAILURE_MODE=open
//   refuse(problem, headers)  over a limit (429), the store down in closed mode or overloaded (503)
//   inspected(reply, headers) a read: the facts, or null when the store could not answer
// The handlers write what they are told; they never decide.
//
// A store failure is handled here, once: counted in tollgate_gateway_store_errors_total, then the
// failure mode applies. A gateway with more checks waiting than its queue holds refuses the excess
// (503, overloaded): a busy gateway is not a Redis outage, and it never lets requests through
// unchecked because of its own load.
//
// Per request: one small object waits for the store's answer (none when a cached denial answers),
// no Promise and no closure.
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { WindowLimit } from '../../contracts/limits.js';
import type { FailureMode } from './config.js';
import type { KeyRecord } from './keys/key-record.js';
import { DeniedCache } from './limiter/denied-cache.js';
import { rateLimitHeaderList, undecidedHeaderList, type HeaderPolicy } from './limiter/headers.js';
import { policyHeaderValue } from './limiter/policy-header.js';
import {
  StoreOverloadedError,
  type LimitCheck,
  type RateLimitStore,
  type ReplyReceiver,
  type StoreReply,
} from './limiter/store.js';
import type { GatewayMetrics } from './metrics.js';
import { PROBLEMS, type PreparedProblem } from './proxy/respond.js';

export interface AdmissionListener {
  /** Send the request on, adding these fields to the upstream's response. */
  forward(headers: string[]): void;
  /** Answer with this problem and these fields instead. */
  refuse(problem: PreparedProblem, headers: string[]): void;
}

export interface InspectionListener {
  /** The key's limits now, or null when the store could not answer (counted as a store error);
   * `headers` are the rate-limit fields for the answer either way. */
  inspected(reply: StoreReply | null, headers: string[]): void;
}

export interface AdmissionOptions {
  readonly store: RateLimitStore;
  readonly failureMode: FailureMode;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  /** Answer certain denials locally until their retry-after; off for a store that needs no I/O. */
  readonly deniedCache: boolean;
  /** Monotonic ms; default performance.now. */
  readonly now?: () => number;
}

/** What a key's requests are checked against, built once per key record and reused. */
interface KeyPolicy extends HeaderPolicy {
  /** The check of the last cost asked for (a route's cost is fixed, so nearly always a hit). */
  check: LimitCheck;
}

/** Waits for the store's answer to one consume. */
class PendingDecision implements ReplyReceiver {
  constructor(
    private readonly admission: Admission,
    private readonly record: KeyRecord,
    private readonly policy: HeaderPolicy,
    private readonly cost: number,
    private readonly listener: AdmissionListener,
    private readonly sentAtMs: number,
  ) {}

  received(reply: StoreReply): void {
    const admission = this.admission;
    admission.checkAnswered(this.sentAtMs);
    if (reply.allowed) {
      this.listener.forward(rateLimitHeaderList(this.policy, reply));
      return;
    }
    admission.denied?.remember(this.record, this.cost, reply, this.sentAtMs);
    admission.refuseLimited(this.record, rateLimitHeaderList(this.policy, reply), this.listener);
  }

  failed(error: unknown): void {
    this.admission.storeFailed(error, this.policy, this.listener);
  }
}

/** Waits for the store's answer to one peek. */
class PendingInspection implements ReplyReceiver {
  constructor(
    private readonly admission: Admission,
    private readonly policy: HeaderPolicy,
    private readonly listener: InspectionListener,
  ) {}

  received(reply: StoreReply): void {
    this.listener.inspected(reply, rateLimitHeaderList(this.policy, reply));
  }

  failed(error: unknown): void {
    this.admission.inspectionFailed(error);
    this.listener.inspected(null, undecidedHeaderList(this.policy));
  }
}

export class Admission {
  readonly denied: DeniedCache | undefined;
  private readonly store: RateLimitStore;
  private readonly failureMode: FailureMode;
  private readonly metrics: GatewayMetrics;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly policies = new WeakMap<KeyRecord, KeyPolicy>();
  // One RateLimit-Policy value per limits array: a tier's keys share theirs.
  private readonly policyHeaders = new WeakMap<readonly WindowLimit[], string>();

  constructor(options: AdmissionOptions) {
    this.store = options.store;
    this.failureMode = options.failureMode;
    this.metrics = options.metrics;
    this.log = options.logger;
    this.now = options.now ?? performance.now.bind(performance);
    this.denied = options.deniedCache ? new DeniedCache(this.now) : undefined;
  }

  /** Consumes `cost` from every limit of the key, or from none, and tells `listener` what to do. */
  decide(record: KeyRecord, cost: number, listener: AdmissionListener): void {
    const policy = this.policyOf(record, cost);
    const known = this.denied?.get(record, cost);
    if (known !== undefined) {
      this.refuseLimited(record, rateLimitHeaderList(policy, known), listener);
      return;
    }
    this.store.consume(policy.check, new PendingDecision(this, record, policy, cost, listener, this.now()));
  }

  /** Reads the key's limits for a request of `cost`, consuming nothing. */
  inspect(record: KeyRecord, cost: number, listener: InspectionListener): void {
    const policy = this.policyOf(record, cost);
    this.store.peek(policy.check, new PendingInspection(this, policy, listener));
  }

  /** Forgets every cached denial (Redis came back, maybe empty). */
  clearDeniedCache(): void {
    this.denied?.clear();
  }

  checkAnswered(sentAtMs: number): void {
    this.metrics.recordCheck((this.now() - sentAtMs) / 1000);
  }

  refuseLimited(record: KeyRecord, headers: string[], listener: AdmissionListener): void {
    this.metrics.recordRateLimited(record.tier);
    listener.refuse(PROBLEMS.rateLimited, headers);
  }

  /** GATEWAY_FAILURE_MODE, applied to a consume the store could not answer. */
  storeFailed(error: unknown, policy: HeaderPolicy, listener: AdmissionListener): void {
    // No decision was made: only the fields that need none go out.
    const headers = undecidedHeaderList(policy);
    if (error instanceof StoreOverloadedError) {
      this.metrics.recordShed();
      listener.refuse(PROBLEMS.overloaded, headers);
      return;
    }
    this.metrics.recordStoreError();
    this.log.debug({ err: error }, 'limiter store failed');
    if (this.failureMode === 'open') {
      this.metrics.recordFailOpen();
      listener.forward(headers);
    } else {
      listener.refuse(PROBLEMS.storeUnavailable, headers);
    }
  }

  inspectionFailed(error: unknown): void {
    if (error instanceof StoreOverloadedError) {
      this.metrics.recordShed();
      return;
    }
    this.metrics.recordStoreError();
    this.log.debug({ err: error }, 'limiter store failed on a read');
  }

  private policyOf(record: KeyRecord, cost: number): KeyPolicy {
    let policy = this.policies.get(record);
    if (policy === undefined) {
      policy = { limits: record.limits, policyHeader: this.policyHeaderOf(record.limits), check: checkOf(record, cost) };
      this.policies.set(record, policy);
    } else if (policy.check.cost !== cost) {
      // Records are immutable, so one check per record and cost can be reused (the script
      // wrapper caches its arguments per check object).
      policy.check = checkOf(record, cost);
    }
    return policy;
  }

  private policyHeaderOf(limits: readonly WindowLimit[]): string {
    let header = this.policyHeaders.get(limits);
    if (header === undefined) {
      header = policyHeaderValue(limits);
      this.policyHeaders.set(limits, header);
    }
    return header;
  }
}

function checkOf(record: KeyRecord, cost: number): LimitCheck {
  return { keyId: record.id, limits: record.limits, algorithm: record.algorithm, cost };
}
