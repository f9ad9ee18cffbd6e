// The bare undici proxy built the way the gateway forwards since it left Pool.stream: a dispatch
// handler that writes the response as it arrives. Informative beside `undici-proxy` (the issue's
// baseline, a Pool.stream proxy): it shows how much of the gateway's gain on that baseline is the
// proxy core itself. No key lookup, limiter or headers; hop-by-hop filtering and streaming only.
import { createServer, type ServerResponse } from 'node:http';
import { Pool, type Dispatcher } from 'undici';
import { forwardableHeaders } from './hop-by-hop.js';
import { listenAndAnnounce, upstreamUrlFromEnv } from './lifecycle.js';

const pool = new Pool(upstreamUrlFromEnv().origin, { connections: 128, pipelining: 1 });
const NOT_FORWARDED = new Set(['connection', 'keep-alive', 'transfer-encoding']);

class Relay implements Dispatcher.DispatchHandler {
  constructor(private readonly res: ServerResponse) {}

  onConnect(): void {}

  onHeaders(statusCode: number, raw: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true;
    const headers: string[] = [];
    for (let i = 0; i < raw.length; i += 2) {
      const name = (raw[i] as Buffer).toString('latin1');
      if (!NOT_FORWARDED.has(name.toLowerCase())) headers.push(name, (raw[i + 1] as Buffer).toString('latin1'));
    }
    this.res.writeHead(statusCode, headers);
    this.res.on('drain', resume);
    return true;
  }

  onData(chunk: Buffer): boolean {
    return this.res.write(chunk);
  }

  onComplete(): void {
    this.res.end();
  }

  onError(): void {
    if (!this.res.headersSent) this.res.writeHead(502, { 'content-type': 'text/plain' });
    this.res.end();
  }
}

const server = createServer((req, res) => {
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  pool.dispatch(
    { path: req.url ?? '/', method: (req.method ?? 'GET') as Dispatcher.HttpMethod, headers: forwardableHeaders(req.headers), body: hasBody ? req : null },
    new Relay(res),
  );
});

listenAndAnnounce(server, () => pool.close());
