// The demo upstream of `npm start`: a tiny echo server on an ephemeral loopback port, so the
// gateway has something to proxy to before anyone configures a real API. It answers every request
// with JSON describing what it received (method, path, the X-Tollgate-* headers), which shows at a
// glance that the key was stripped and the key id passed on.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DemoUpstream {
  readonly url: string;
  close(): Promise<void>;
}

const ECHOED_HEADERS = ['x-tollgate-key-id', 'x-tollgate-tier', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'via'];

export interface DemoUpstreamOptions {
  /** Loopback by default; the compose stack's container listens on every interface. */
  readonly host?: string;
  /** 0 (default) picks a free port. */
  readonly port?: number;
}

export async function startDemoUpstream(options: DemoUpstreamOptions = {}): Promise<DemoUpstream> {
  const host = options.host ?? '127.0.0.1';
  const server: Server = createServer((request, response) => {
    // Drain the body without keeping it: the echo is about the request line and headers.
    let bytes = 0;
    request.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    request.on('end', () => {
      const headers: Record<string, string> = {};
      for (const name of ECHOED_HEADERS) {
        const value = request.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      const body = JSON.stringify({ upstream: 'tollgate demo echo', method: request.method, url: request.url, body_bytes: bytes, headers });
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      response.end(body);
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
