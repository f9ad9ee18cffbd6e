// The ops port: /healthz (the process answers), /readyz (readiness.ts), /metrics (Prometheus text).
// Kept off the public port so it is never proxied or limited. What it serves comes from functions,
// so one process or a primary speaking for its workers (GATEWAY_WORKERS) serve it alike.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { Readiness } from './readiness.js';

export interface OpsServerOptions {
  /** The metrics in Prometheus's text format. */
  readonly metrics: () => Promise<string>;
  readonly metricsContentType: string;
  readonly readiness: () => Readiness | Promise<Readiness>;
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
      Promise.resolve(options.readiness()).then(
        ({ ready, detail }) => sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', ...detail }),
        () => sendJson(res, 503, { status: 'not ready' }),
      );
    } else if (path === '/metrics') {
      options.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': options.metricsContentType });
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
