// Two Redis settings decide whether limits and the request log survive trouble, and neither can be
// seen from a failed request, so the gateway reads them (INFO, which managed Redis services allow
// where CONFIG is often disabled) at start, whenever its connection comes back, and every minute:
// - the eviction policy: anything but `noeviction` may evict a limit's counter under memory
//   pressure (the limiter's keys expire, so even the volatile-* policies pick them), and an evicted
//   counter is a limit that silently starts again;
// - persistence: without the append-only file, a Redis restart loses the request events the control
//   plane has not written yet (and every counter).
// Both are logged as warnings when unsafe and shown in /readyz; neither makes the gateway unready.
// A Redis that will not say (INFO refused by its ACL, a field missing) is reported as unknown.
import type { Logger } from 'pino';
import type { RedisConnection } from '../../../contracts/redis-connection.js';

export interface RedisSettings {
  /** `maxmemory-policy`, e.g. `noeviction`; `unknown` when Redis does not say. */
  readonly evictionPolicy: string;
  /** True when Redis writes an append-only file (`appendonly yes`); null when it does not say. */
  readonly appendOnly: boolean | null;
}

const UNKNOWN: RedisSettings = { evictionPolicy: 'unknown', appendOnly: null };

export interface RedisSettingsWatch {
  /** The settings read last; null until Redis first answered. */
  current(): RedisSettings | null;
  close(): void;
}

/** `field:value` lines of an INFO reply. */
function infoField(info: string, field: string): string | undefined {
  const match = new RegExp(`^${field}:(.*)$`, 'm').exec(info);
  return match?.[1]?.trim();
}

export async function readRedisSettings(client: RedisConnection): Promise<RedisSettings> {
  const [memory, persistence] = await Promise.all([client.info('memory'), client.info('persistence')]);
  const aof = infoField(persistence, 'aof_enabled');
  return {
    evictionPolicy: infoField(memory, 'maxmemory_policy') ?? 'unknown',
    appendOnly: aof === undefined ? null : aof === '1',
  };
}

export function watchRedisSettings(client: RedisConnection, logger: Logger, intervalMs = 60_000): RedisSettingsWatch {
  let settings: RedisSettings | null = null;
  let warned = '';
  const refresh = (): void => {
    readRedisSettings(client).then(
      (read) => {
        settings = read;
        const problems: string[] = [];
        if (read.evictionPolicy !== 'noeviction') problems.push(`maxmemory-policy is ${read.evictionPolicy}: limits may be evicted and start again; use noeviction`);
        if (read.appendOnly === false) problems.push('appendonly is off: a Redis restart loses request events not yet written to PostgreSQL');
        const text = problems.join('; ');
        // Once per change, not every minute.
        if (text !== '' && text !== warned) logger.warn({ eviction_policy: read.evictionPolicy, append_only: read.appendOnly }, `redis settings: ${text}`);
        warned = text;
      },
      (error: unknown) => {
        // Refused (an ACL without INFO): say so rather than nothing; a known reading is kept.
        settings ??= UNKNOWN;
        logger.debug({ err: error }, 'cannot read redis settings');
      },
    );
  };
  client.on('ready', refresh);
  if (client.status === 'ready') refresh();
  const timer = setInterval(refresh, intervalMs);
  timer.unref();
  return {
    current: () => settings,
    close() {
      clearInterval(timer);
      client.off('ready', refresh);
    },
  };
}
