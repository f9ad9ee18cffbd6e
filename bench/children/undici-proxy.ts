// The bare undici proxy: the floor for a Node proxy built on undici (what the gateway uses), with no
// key lookup, limiter or headers — only hop-by-hop filtering and streaming both ways.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { Pool } from 'undici';
import { listenAndAnnounce, upstreamUrlFromEnv } from './lifecycle.js';

/** Hop-by-hop headers (RFC 9110 §7.6.1), which a proxy must not forward, and Host. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host']);

function forwardableHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const result: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined && !HOP_BY_HOP.has(name)) result[name] = value;
  }
  return result;
}

const pool = new Pool(upstreamUrlFromEnv().origin, { connections: 128, pipelining: 1 });

const server = createServer((req, res) => {
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  pool
    .stream(
      {
        path: req.url ?? '/',
        method: (req.method ?? 'GET') as 'GET',
        headers: forwardableHeaders(req.headers),
        body: hasBody ? req : null,
      },
      ({ statusCode, headers }) => {
        const outgoing: Record<string, string | string[]> = {};
        for (const name in headers) {
          const value = headers[name];
          if (value !== undefined && name !== 'connection' && name !== 'keep-alive' && name !== 'transfer-encoding') {
            outgoing[name] = value;
          }
        }
        res.writeHead(statusCode, outgoing);
        return res;
      },
    )
    .catch(() => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end();
    });
});

listenAndAnnounce(server, () => pool.close());
