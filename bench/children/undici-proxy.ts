// The bare undici proxy: the floor for a Node proxy built on undici (what the gateway uses), with no
// key lookup, limiter or headers — only hop-by-hop filtering and streaming both ways.
import { createServer } from 'node:http';
import { Pool } from 'undici';
import { forwardableHeaders } from './hop-by-hop.js';
import { listenAndAnnounce, upstreamUrlFromEnv } from './lifecycle.js';

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
