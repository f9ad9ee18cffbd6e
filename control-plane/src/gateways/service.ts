// The fleet as the control plane sees it: every gateway's last heartbeat (contracts/
// gateway-registry.ts), compared with the latest configuration change and when each change was made.
// Live gateways first, then stale ones (not heard from for 10 s), each group by host.
import { STALE_AFTER_MS, type GatewayRegistry } from '../../../contracts/gateway-registry.js';
import { ApiError, ConflictError, NotFoundError } from '../http/errors.js';
import type { GatewayItem } from './schema.js';

/** How long a read of the registry may take before the caller gets 503 (Redis away). */
const READ_TIMEOUT_MS = 2_000;

export class FleetUnavailableError extends ApiError {
  constructor(cause?: unknown) {
    super(503, 'fleet-unavailable', 'the registry of gateways cannot be read right now', { cause });
  }
}

function withDeadline<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new FleetUnavailableError()), READ_TIMEOUT_MS);
  });
  return Promise.race([work.catch((error: unknown) => Promise.reject(new FleetUnavailableError(error))), expired]).finally(() => clearTimeout(timer));
}

/** The latest change's version, and when the last changes were made (version → epoch ms). */
export interface ChangeHistory {
  readonly version: number;
  readonly times: ReadonlyMap<number, number>;
}

export interface FleetSource {
  readonly registry: GatewayRegistry;
  changes(): Promise<ChangeHistory>;
}

export interface FleetSummary {
  readonly live: number;
  readonly stale: number;
  /** The largest lag among live gateways (0 without any). */
  readonly maxLagRevisions: number;
  readonly maxLagSeconds: number;
}

export interface GatewayService {
  list(): Promise<GatewayItem[]>;
  summary(): Promise<FleetSummary>;
  /** Removes a stale gateway's entry; a live one would only write it again. */
  forget(id: string): Promise<void>;
}

/** When change `version` was made; a change older than the history kept counts from the oldest kept. */
function madeAt(times: ReadonlyMap<number, number>, version: number): number | undefined {
  const exact = times.get(version);
  if (exact !== undefined) return exact;
  let oldest: number | undefined;
  for (const [known, ms] of times) if (known > version && (oldest === undefined || ms < oldest)) oldest = ms;
  return oldest;
}

export function createGatewayService(source: FleetSource, now: () => number = Date.now): GatewayService {
  const list = async (): Promise<GatewayItem[]> => {
    const [entries, changes] = await withDeadline(Promise.all([source.registry.list(), source.changes()]));
    const nowMs = now();
    const items = entries.map((entry): GatewayItem => {
      const lagRevisions = Math.max(0, changes.version - entry.applied_revision);
      const waitingSince = lagRevisions === 0 ? undefined : madeAt(changes.times, entry.applied_revision + 1);
      return {
        id: entry.id,
        host: entry.host,
        version: entry.version,
        started_at: entry.started_at,
        workers: entry.workers,
        last_seen_at: new Date(entry.seen_at_ms).toISOString(),
        applied_revision: entry.applied_revision,
        lag_revisions: lagRevisions,
        lag_seconds: waitingSince === undefined ? 0 : Math.max(0, Math.round(nowMs - waitingSince)) / 1000,
        state: nowMs - entry.seen_at_ms < STALE_AFTER_MS ? 'live' : 'stale',
      };
    });
    return items.sort((a, b) => (a.state === b.state ? a.host.localeCompare(b.host) || a.id.localeCompare(b.id) : a.state === 'live' ? -1 : 1));
  };
  return {
    list,
    async forget(id) {
      const entry = (await withDeadline(source.registry.list())).find((one) => one.id === id);
      if (entry === undefined) throw new NotFoundError(`no gateway with id ${id}`);
      if (now() - entry.seen_at_ms < STALE_AFTER_MS) throw new ConflictError('gateway-live', `gateway ${id} is live: stop it first, it deregisters itself`);
      await withDeadline(source.registry.remove([id]));
    },
    async summary() {
      const items = await list();
      const live = items.filter((item) => item.state === 'live');
      return {
        live: live.length,
        stale: items.length - live.length,
        maxLagRevisions: Math.max(0, ...live.map((item) => item.lag_revisions)),
        maxLagSeconds: Math.max(0, ...live.map((item) => item.lag_seconds)),
      };
    },
  };
}
