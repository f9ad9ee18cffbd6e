// The ops port (SPEC §3): /healthz (the process answers), /readyz (Redis answers and the key table is
// loaded), /metrics (Prometheus text). Kept off the public port so it is never proxied or limited.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';

export interface OpsServerOptions {
  readonly registry: Registry;
  /** Redis answered the last probe. */
  readonly redisUp: () => boolean;
  /** A key table has been loaded. */
  readonly keysLoaded: () => boolean;
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
      const redis = options.redisUp();
      const keys = options.keysLoaded();
      sendJson(res, redis && keys ? 200 : 503, {
        status: redis && keys ? 'ready' : 'not ready',
        redis: redis ? 'up' : 'down',
        keys: keys ? 'loaded' : 'not loaded',
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
