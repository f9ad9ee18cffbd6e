// A small upstream API in the test's process that can be broken on purpose: stopped (its port
// refuses connections), made to hang (it accepts requests and never answers them), and started
// again on the same port. It counts the requests it received per key id (X-Tollgate-Key-Id), which
// is what the gateway let through.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface FaultyUpstream {
  readonly url: string;
  /** Requests received per X-Tollgate-Key-Id. */
  received(keyId: string): number;
  /** Closes the port and every connection: new requests are refused. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  /** While on, requests are held open unanswered; switching it off answers those still waiting. */
  hang(on: boolean): void;
}

export async function startFaultyUpstream(): Promise<FaultyUpstream> {
  const counts = new Map<string, number>();
  const sockets = new Set<Socket>();
  const held = new Set<ServerResponse>();
  let hanging = false;
  const answer = (res: ServerResponse): void => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  };
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const keyId = req.headers['x-tollgate-key-id'];
    if (typeof keyId === 'string') counts.set(keyId, (counts.get(keyId) ?? 0) + 1);
    req.resume();
    if (hanging) {
      held.add(res);
      res.once('close', () => held.delete(res));
      return;
    }
    answer(res);
  };
  let server!: Server;
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  const listen = (port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server = createServer({ keepAliveTimeout: 60_000 }, handle);
      server.on('connection', track);
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  const port = await listen(0);
  return {
    url: `http://127.0.0.1:${port}`,
    received: (keyId) => counts.get(keyId) ?? 0,
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
    async start() {
      await listen(port);
    },
    hang(on) {
      hanging = on;
      if (!on) {
        // Late, as a hung server that comes back would; the gateway gave up on the older ones.
        for (const res of held) if (!res.destroyed) answer(res);
        held.clear();
      }
    },
  };
}
