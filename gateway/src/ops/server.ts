// The ops port: /healthz (the process answers), /readyz (the limiter store answers and the key table
// is loaded), /metrics (Prometheus text). Kept off the public port so it is never proxied or limited.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { RedisSettings } from './redis-settings.js';

export interface OpsServerOptions {
  readonly registry: Registry;
  /** Where limits are kept: Redis, or the single-machine mode's in-memory store. */
  readonly store: 'redis' | 'memory';
  /** The store answers (Redis answered the last probe; the in-memory store always does). */
  readonly storeUp: () => boolean;
  /** A key table has been loaded. */
  readonly keysLoaded: () => boolean;
  /** Redis's eviction policy and persistence as read last (Redis mode); null until read. */
  readonly redisSettings?: () => RedisSettings | null;
}

/** What /readyz says about Redis's settings: the values, and a warning for each unsafe one. */
function settingsDetail(settings: RedisSettings | null | undefined): Record<string, unknown> {
  if (settings === null || settings === undefined) return {};
  const warnings: string[] = [];
  if (settings.evictionPolicy !== 'noeviction') warnings.push(`redis maxmemory-policy ${settings.evictionPolicy} may evict limits`);
  if (settings.appendOnly === false) warnings.push('redis runs without its append-only file: a restart loses unwritten request events');
  return { redis_eviction_policy: settings.evictionPolicy, redis_append_only: settings.appendOnly, ...(warnings.length > 0 ? { warnings } : {}) };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function createOpsServer(options: OpsServerOptions): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/healthz') {
      sendJson(res, 200, { status: 'ok' });
    } else if (path === '/readyz') {
      const up = options.storeUp();
      const keys = options.keysLoaded();
      const ready = up && keys;
      // The in-memory store has no Redis to report on; naming it says so.
      const store = options.store === 'redis' ? { store: 'redis', redis: up ? 'up' : 'down' } : { store: 'memory' };
      sendJson(res, ready ? 200 : 503, {
        status: ready ? 'ready' : 'not ready',
        ...store,
        keys: keys ? 'loaded' : 'not loaded',
        ...settingsDetail(options.redisSettings?.()),
      });
    } else if (path === '/metrics') {
      options.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': options.registry.contentType });
          res.end(text);
        },
        () => {
          res.writeHead(500).end();
        },
      );
    } else {
      sendJson(res, 404, { status: 'not found' });
    }
  });
}
