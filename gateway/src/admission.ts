// The admission step: every request the gateway limits (proxied HTTP, WebSocket upgrades) and every
// read of a key's limits (/_gateway/quota, the rate-limit fields of a 404) is decided here and
// nowhere else. It takes the request's subject (a key, or a client address on a keyless route),
// its route and cost, and a listener, and answers the listener once, maybe before it returns:
//   forward(headers, verdict)          admitted; or over a limit in shadow mode; or let through by
//                                      GATEWAY_FAILURE_MODE=open
//   refuse(problem, headers, verdict)  over a limit or the concurrency cap (429); the store down in
//                                      closed mode, or overloaded (503)
//   inspected(reply, headers, policy)  a read: the facts, or null when the store could not answer
// The handlers write what they are told; they never decide.
//
// What applies to a request (its policy) is built once per key record and route and reused: the
// key's limits (its tier's or its own), the route's (the tier's for that route, else the routes
// file's), the tier's algorithm, time zone, mode and concurrency cap. All of it is decided in one
// store call, all or none.
//
// A store failure is handled here, once: counted in tollgate_gateway_store_errors_total, then the
// failure mode applies: open forwards, closed refuses (503), local decides against this gateway's
// share of every limit in memory (local-budget.ts) and says so in `Tollgate-Decision: local`. A
// gateway with more checks waiting than its queue holds refuses the excess (503, overloaded): a busy
// gateway is not a Redis outage, and it never lets requests through unchecked because of its own
// load.
//
// Per request: one small object waits for the store's answer (none when a cached denial answers),
// no Promise and no closure. Concurrency caps add the slot (a check copy and a lease timer), and
// keyless routes a check per client; tiers without them pay nothing for either.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { CalendarPeriods, type Period } from '../../contracts/calendar.js';
import type { Algorithm, Mode, WindowLimit } from '../../contracts/limits.js';
import type { FailureMode } from './config.js';
import type { KeyRecord } from './keys/key-record.js';
import { DeniedCache } from './limiter/denied-cache.js';
import { LocalBudget } from './limiter/local-budget.js';
import { rateLimitHeaderList, undecidedHeaderList, type HeaderPolicy } from './limiter/headers.js';
import { policyHeaderValue } from './limiter/policy-header.js';
import { StoreOverloadedError, type LimitCheck, type RateLimitStore, type ReplyReceiver, type StoreReply } from './limiter/store.js';
import type { GatewayMetrics, LimitKind } from './metrics.js';
import { clientSubject } from './proxy/client-subject.js';
import { limitedProblem, PROBLEMS, type PreparedProblem } from './proxy/respond.js';
import type { Route } from './proxy/routes.js';

/** A concurrency slot a request holds until it ends: renewed while it runs, released at its end. */
export class SlotLease {
  private timer: NodeJS.Timeout | null;
  private released = false;

  constructor(
    private readonly store: RateLimitStore,
    private readonly subject: string,
    private readonly id: string,
    private readonly leaseMs: number,
  ) {
    this.timer = setTimeout(this.renew, leaseMs / 2);
    this.timer.unref();
  }

  /** The request is over (answered, abandoned or failed): the slot is free again. */
  release(): void {
    if (this.released) return;
    this.released = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.store.updateSlot({ subject: this.subject, slot: this.id, keep: false }, this.leaseMs);
  }

  private readonly renew = (): void => {
    if (this.released) return;
    this.store.updateSlot({ subject: this.subject, slot: this.id, keep: true }, this.leaseMs);
    this.timer = setTimeout(this.renew, this.leaseMs / 2);
    this.timer.unref();
  };
}

/** What the decision means for the request log, and the slot the request holds. */
export interface Verdict {
  /** A limit refused the request (429). */
  readonly limited: boolean;
  /** The item name of the limit that refused it (or would have, in shadow mode). */
  readonly limitedBy: string | null;
  /** A shadow-mode limit would have refused it; it was forwarded. */
  readonly shadowLimited: boolean;
  readonly slot: SlotLease | null;
}

/** The verdict of nearly every admitted request, shared: no allocation. */
export const ADMITTED: Verdict = Object.freeze({ limited: false, limitedBy: null, shadowLimited: false, slot: null });

export interface AdmissionListener {
  /** Send the request on, adding these fields to the upstream's response. */
  forward(headers: string[], verdict: Verdict): void;
  /** Answer with this problem and these fields instead. */
  refuse(problem: PreparedProblem, headers: string[], verdict: Verdict): void;
}

export interface InspectionListener {
  /** The limits now, or null when the store could not answer (counted as a store error);
   * `headers` are the rate-limit fields for the answer either way. */
  inspected(reply: StoreReply | null, headers: string[], policy: Policy): void;
}

/** What applies to one subject's requests on one route, built once and reused. */
export interface Policy extends HeaderPolicy {
  /** The tier's name, or `none` for a keyless route (metrics). */
  readonly tier: string;
  readonly algorithm: Algorithm;
  readonly timezone: string;
  readonly mode: Mode;
  /** Most requests in flight; null: no cap. */
  readonly concurrency: number | null;
  /** The subject's check of the last cost asked for, with the current calendar periods. */
  check: LimitCheck;
  /** When the check's calendar periods end (epoch ms); Infinity without calendar limits. */
  validUntil: number;
  policyHeader: string;
}

export interface AdmissionOptions {
  readonly store: RateLimitStore;
  readonly failureMode: FailureMode;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  /** Answer certain denials locally until their retry-after; off for a store that needs no I/O. */
  readonly deniedCache: boolean;
  /** How long a concurrency slot is held unless released or renewed. */
  readonly concurrencyLeaseMs?: number;
  /** Routes limited by client address group IPv6 clients by this prefix. */
  readonly clientIpv6PrefixBits?: number;
  /** Monotonic ms; default performance.now. */
  readonly now?: () => number;
  /** Epoch ms, for calendar periods; default Date.now. */
  readonly clock?: () => number;
  /** Live gateways at the last heartbeat, for GATEWAY_FAILURE_MODE=local's shares; default 1. */
  readonly liveGateways?: () => number;
}

/** The field that marks an answer decided by this gateway alone (GATEWAY_FAILURE_MODE=local). */
export const LOCAL_DECISION = ['tollgate-decision', 'local'] as const;

/** The policy key of a key's requests on no route (a 404) and of a quota read (every route). */
const NO_ROUTE = Symbol('no route');
const EVERY_ROUTE = Symbol('every route');
type RouteKey = Route | typeof NO_ROUTE | typeof EVERY_ROUTE;

/** A key's policies: the last one used (nearly always the route asked again), and the others. */
interface KeyPolicies {
  route: RouteKey;
  policy: Policy;
  others: Map<RouteKey, Policy> | null;
}

/** Waits for the store's answer to one consume. */
class PendingDecision implements ReplyReceiver {
  constructor(
    private readonly admission: Admission,
    private readonly policy: Policy,
    private readonly check: LimitCheck,
    /** Whose denial may be cached (a key's policy on a route); null: none. */
    private readonly owner: Policy | null,
    private readonly listener: AdmissionListener,
    private readonly sentAtMs: number,
  ) {}

  received(reply: StoreReply): void {
    this.admission.answered(this.policy, this.check, this.owner, reply, this.listener, this.sentAtMs);
  }

  failed(error: unknown): void {
    this.admission.storeFailed(error, this.policy, this.check, this.listener);
  }
}

/** Waits for the store's answer to one peek. */
class PendingInspection implements ReplyReceiver {
  constructor(
    private readonly admission: Admission,
    private readonly policy: Policy,
    private readonly listener: InspectionListener,
  ) {}

  received(reply: StoreReply): void {
    this.listener.inspected(reply, rateLimitHeaderList(this.policy, reply, false), this.policy);
  }

  failed(error: unknown): void {
    this.admission.inspectionFailed(error);
    this.listener.inspected(null, undecidedHeaderList(this.policy), this.policy);
  }
}

export class Admission {
  readonly denied: DeniedCache | undefined;
  private readonly store: RateLimitStore;
  private readonly failureMode: FailureMode;
  private readonly metrics: GatewayMetrics;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly clock: () => number;
  private readonly leaseMs: number;
  private readonly ipv6Bits: number;
  private readonly policies = new WeakMap<KeyRecord, KeyPolicies>();
  private readonly routePolicies = new Map<Route, Policy>();
  private readonly periods = new CalendarPeriods();
  private readonly slotPrefix = randomBytes(6).toString('base64url');
  private slotSerial = 0;
  /** GATEWAY_FAILURE_MODE=local's in-memory shares; undefined in the other modes. */
  private readonly local: LocalBudget | undefined;

  constructor(options: AdmissionOptions) {
    this.store = options.store;
    this.failureMode = options.failureMode;
    this.metrics = options.metrics;
    this.log = options.logger;
    this.now = options.now ?? performance.now.bind(performance);
    this.clock = options.clock ?? Date.now;
    this.leaseMs = options.concurrencyLeaseMs ?? 60_000;
    this.ipv6Bits = options.clientIpv6PrefixBits ?? 64;
    this.denied = options.deniedCache ? new DeniedCache(this.now) : undefined;
    this.local = options.failureMode === 'local' ? new LocalBudget(options.liveGateways ?? (() => 1)) : undefined;
  }

  /** A keyed request on `route`: consumes its cost from every limit that applies, or from none. */
  decide(record: KeyRecord, route: Route, listener: AdmissionListener): void {
    const policy = this.keyPolicy(record, route, route.cost);
    if (this.denied !== undefined && policy.mode === 'enforce') {
      const known = this.denied.get(policy, route.cost);
      if (known !== undefined) {
        this.refuseLimited(policy, known, listener);
        return;
      }
    }
    this.consume(policy, policy.check, policy, listener);
  }

  /** A request on a keyless route limited by client address. */
  decideForClient(route: Route, clientAddress: string, listener: AdmissionListener): void {
    const policy = this.clientPolicy(route);
    const template = policy.check;
    // The subject is the client's, so the check is this request's own.
    const check: LimitCheck = {
      subject: clientSubject(clientAddress, this.ipv6Bits),
      algorithm: template.algorithm,
      limits: template.limits,
      periods: template.periods,
      cost: template.cost,
    };
    this.consume(policy, check, null, listener);
  }

  /**
   * Reads a key's limits for a request of `cost`, consuming nothing: on `route`, on no route (the
   * key's own limits, for a 404), or on every route (the key's and every route's, for the quota).
   */
  inspect(record: KeyRecord, route: Route | 'none' | 'every', routes: readonly Route[], cost: number, listener: InspectionListener): void {
    const key: RouteKey = route === 'none' ? NO_ROUTE : route === 'every' ? EVERY_ROUTE : route;
    const policy = this.keyPolicy(record, key, cost, routes);
    const check = policy.concurrency === null ? policy.check : { ...policy.check, concurrency: { limit: policy.concurrency, leaseMs: this.leaseMs, id: 'peek' } };
    this.store.peek(check, new PendingInspection(this, policy, listener));
  }

  /** When the cached denial of a key's requests on a route ends (diagnostics, tests); undefined: none. */
  deniedUntil(record: KeyRecord, route: Route): number | undefined {
    return this.denied?.deniedUntil(this.keyPolicy(record, route, route.cost));
  }

  /** Redis answers again (maybe empty): cached denials and local shares are forgotten. */
  storeRecovered(): void {
    this.denied?.clear();
    this.local?.reset();
  }

  answered(policy: Policy, check: LimitCheck, owner: Policy | null, reply: StoreReply, listener: AdmissionListener, sentAtMs: number): void {
    this.metrics.recordCheck((this.now() - sentAtMs) / 1000);
    if (!reply.allowed && policy.mode === 'enforce' && owner !== null && reply.refused < policy.limits.length) {
      this.denied?.remember(owner, check.cost, reply, sentAtMs);
    }
    this.apply(policy, policy, check, reply, listener, this.store, null);
  }

  /**
   * What a decision means for the request: forward (with its slot), forward in shadow mode, or
   * refuse. `fields` reports the limits as decided (the policy's, or this gateway's local shares);
   * `extra` is added to the answer's fields (the local-decision marker).
   */
  private apply(
    policy: Policy,
    fields: HeaderPolicy & { readonly concurrency: number | null },
    check: LimitCheck,
    reply: StoreReply,
    listener: AdmissionListener,
    slots: RateLimitStore,
    extra: readonly string[] | null,
  ): void {
    if (reply.allowed) {
      const slot = check.concurrency;
      const headers = withExtra(rateLimitHeaderList(fields, reply), extra);
      if (slot === undefined) listener.forward(headers, ADMITTED);
      else listener.forward(headers, { ...ADMITTED, slot: new SlotLease(slots, check.subject, slot.id, slot.leaseMs) });
      return;
    }
    if (policy.mode === 'shadow') {
      // What enforcing would have answered, forwarded instead: the same fields, no Retry-After.
      this.metrics.recordShadowLimited(policy.tier);
      listener.forward(withExtra(rateLimitHeaderList(fields, reply, false), extra), {
        limited: false,
        limitedBy: refusedBy(fields, reply),
        shadowLimited: true,
        slot: null,
      });
      return;
    }
    this.metrics.recordRateLimited(policy.tier, limitKind(policy, reply));
    listener.refuse(limitedProblem(fields.limits, reply, fields.concurrency), withExtra(rateLimitHeaderList(fields, reply), extra), {
      limited: true,
      limitedBy: refusedBy(fields, reply),
      shadowLimited: false,
      slot: null,
    });
  }

  /** GATEWAY_FAILURE_MODE, applied to a consume the store could not answer. */
  storeFailed(error: unknown, policy: Policy, check: LimitCheck, listener: AdmissionListener): void {
    // No decision was made: only the fields that need none go out.
    const headers = undecidedHeaderList(policy);
    if (error instanceof StoreOverloadedError) {
      this.metrics.recordShed();
      listener.refuse(PROBLEMS.overloaded, headers, ADMITTED);
      return;
    }
    this.metrics.recordStoreError();
    this.log.debug({ err: error }, 'limiter store failed');
    if (this.local !== undefined) {
      const { policy: shares, reply } = this.local.consume(check);
      this.metrics.recordLocalDecision();
      this.apply(policy, shares, check, reply, listener, this.local.slots, LOCAL_DECISION);
      return;
    }
    if (this.failureMode === 'open') {
      this.metrics.recordFailOpen();
      listener.forward(headers, ADMITTED);
    } else {
      listener.refuse(PROBLEMS.storeUnavailable, headers, ADMITTED);
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

  private consume(policy: Policy, base: LimitCheck, owner: Policy | null, listener: AdmissionListener): void {
    let check = base;
    if (policy.concurrency !== null) {
      this.slotSerial += 1;
      check = { ...base, concurrency: { limit: policy.concurrency, leaseMs: this.leaseMs, id: `${this.slotPrefix}.${this.slotSerial.toString(36)}` } };
    }
    this.store.consume(check, new PendingDecision(this, policy, check, owner, listener, this.now()));
  }

  private refuseLimited(policy: Policy, reply: StoreReply, listener: AdmissionListener): void {
    this.metrics.recordRateLimited(policy.tier, limitKind(policy, reply));
    listener.refuse(limitedProblem(policy.limits, reply, policy.concurrency), rateLimitHeaderList(policy, reply), {
      limited: true,
      limitedBy: refusedBy(policy, reply),
      shadowLimited: false,
      slot: null,
    });
  }

  private keyPolicy(record: KeyRecord, route: RouteKey, cost: number, routes: readonly Route[] = []): Policy {
    const known = this.policies.get(record);
    let policy: Policy | undefined;
    if (known !== undefined) policy = known.route === route ? known.policy : known.others?.get(route);
    if (policy === undefined) {
      policy = this.buildKeyPolicy(record, route, cost, routes);
      if (known === undefined) this.policies.set(record, { route, policy, others: null });
      else (known.others ??= new Map()).set(route, policy);
    } else if (known !== undefined && known.route !== route && known.others !== null) {
      // Keep the last route in front: the next request of this key most likely asks for it again.
      known.others.set(known.route, known.policy);
      known.route = route;
      known.policy = policy;
    }
    return this.current(policy, cost);
  }

  private buildKeyPolicy(record: KeyRecord, route: RouteKey, cost: number, routes: readonly Route[]): Policy {
    const tier = record.tier;
    let limits = record.limits;
    const routeLimits = (one: Route): readonly WindowLimit[] => tier.routeLimits.get(one.name) ?? one.limits ?? [];
    if (route === EVERY_ROUTE) {
      const extra = routes.filter((one) => one.auth !== 'none').flatMap((one) => routeLimits(one));
      const named = new Set(routes.map((one) => one.name));
      for (const [name, own] of tier.routeLimits) if (!named.has(name)) extra.push(...own);
      if (extra.length > 0) limits = [...limits, ...extra];
    } else if (route !== NO_ROUTE) {
      const extra = routeLimits(route);
      if (extra.length > 0) limits = [...limits, ...extra];
    }
    return this.newPolicy(record.id, tier.name, limits, tier.algorithm, tier.timezone, record.mode, tier.concurrency, cost);
  }

  private clientPolicy(route: Route): Policy {
    let policy = this.routePolicies.get(route);
    if (policy === undefined) {
      policy = this.newPolicy('', 'none', route.limits ?? [], route.algorithm ?? 'sliding_window', route.timezone ?? 'UTC', 'enforce', null, route.cost);
      this.routePolicies.set(route, policy);
    }
    return this.current(policy, route.cost);
  }

  private newPolicy(subject: string, tier: string, limits: readonly WindowLimit[], algorithm: Algorithm, timezone: string, mode: Mode, concurrency: number | null, cost: number): Policy {
    const policy: Policy = {
      tier,
      limits,
      algorithm,
      timezone,
      mode,
      concurrency,
      check: { subject, algorithm, limits, cost },
      validUntil: 0,
      policyHeader: '',
    };
    return this.refresh(policy, cost);
  }

  /** The policy with a check of `cost` for the current calendar periods. */
  private current(policy: Policy, cost: number): Policy {
    if (policy.check.cost === cost && policy.validUntil > this.clock()) return policy;
    return this.refresh(policy, cost);
  }

  /**
   * A new check (and, with calendar limits, new periods and RateLimit-Policy). Records are
   * immutable, so one check per policy and cost is reused: the script wrapper caches its arguments
   * per check object.
   */
  private refresh(policy: Policy, cost: number): Policy {
    const { limits } = policy;
    let periods: (Period | null)[] | undefined;
    let validUntil = Number.POSITIVE_INFINITY;
    if (limits.some((limit) => limit.calendar !== null)) {
      const nowMs = this.clock();
      periods = limits.map((limit) => (limit.calendar === null ? null : this.periods.period(limit.calendar, policy.timezone, nowMs)));
      for (const period of periods) if (period !== null && period.next < validUntil) validUntil = period.next;
    }
    policy.check = { subject: policy.check.subject, algorithm: policy.algorithm, limits, cost, ...(periods ? { periods } : {}) };
    if (policy.policyHeader === '' || periods !== undefined) policy.policyHeader = policyHeaderValue(limits, periods);
    policy.validUntil = validUntil;
    return policy;
  }
}

function withExtra(headers: string[], extra: readonly string[] | null): string[] {
  if (extra !== null) for (const field of extra) headers.push(field);
  return headers;
}

/** The item name of the limit that refused (or would have refused) the request. */
function refusedBy(policy: HeaderPolicy, reply: StoreReply): string {
  return reply.refused >= 0 && reply.refused < policy.limits.length ? (policy.limits[reply.refused] as WindowLimit).name : 'concurrency';
}

function limitKind(policy: Policy, reply: StoreReply): LimitKind {
  if (reply.refused >= policy.limits.length) return 'concurrency';
  if (policy.check.subject === '' || policy.check.subject.startsWith('ip:')) return 'client';
  return (policy.limits[reply.refused] as WindowLimit | undefined)?.scope === '' ? 'key' : 'route';
}
