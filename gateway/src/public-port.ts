// The public port's listening sockets. Node accepts one new connection per turn of its event loop
// (Node 20, 22 and 24 alike), and a saturated gateway's turns last tens of milliseconds: when 1000
// clients connected at once, the last few hundred waited 4–10 s in the kernel's accept queue.
// Where Node can share a port between listening sockets (SO_REUSEPORT: Node 22.12 and later, on
// Linux), the port gets ACCEPT_SOCKETS of them; the kernel spreads new connections over them, each
// accepts one per turn, and all hand theirs to the one HTTP server. Elsewhere, and in a worker
// process (whose primary accepts for it), the port has one socket as before.
import cluster from 'node:cluster';
import type { Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';

/**
 * Connections the kernel may hold for each socket before the gateway accepts them (capped at
 * net.core.somaxconn). Node's default of 511 overflowed under a burst of 1000 connections, and the
 * dropped handshakes were retried 1, 3 and 7 s later.
 */
export const PUBLIC_LISTEN_BACKLOG = 4096;
/** Listening sockets on the public port where the port can be shared. */
export const ACCEPT_SOCKETS = 8;

export interface PublicPort {
  readonly port: number;
  /** Listening sockets open on the port (1 where it cannot be shared). */
  readonly sockets: number;
  /** Stops accepting on every socket; resolves once the connections they took have ended. */
  close(): Promise<void>;
}

interface ListenOptions {
  readonly port: number;
  readonly host: string | undefined;
  readonly reusePort: boolean;
}

function listen(server: NetServer, options: ListenOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // reusePort is unknown to Node before 22.12, which ignores it: a second socket then fails to
    // bind with EADDRINUSE, and the port keeps one.
    server.listen({ port: options.port, host: options.host, backlog: PUBLIC_LISTEN_BACKLOG, reusePort: options.reusePort }, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Whether `port` is free to bind without SO_REUSEPORT. Sockets that share a port with it bind
 * beside any other holder that also shares it (a second gateway started on the same port by
 * mistake): probed first, such a port fails with EADDRINUSE as it did with one socket.
 */
async function ensureFree(port: number, host: string | undefined): Promise<void> {
  if (port === 0) return;
  const probe = createNetServer();
  await listen(probe, { port, host, reusePort: false });
  await closed(probe);
}

function closed(server: NetServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Binds `port` (0: a free one) for `server`, with more sockets feeding it where Node can. */
export async function openPublicPort(server: Server, port: number, host: string | undefined): Promise<PublicPort> {
  const shared = !cluster.isWorker;
  if (shared) await ensureFree(port, host);
  const bound = await listen(server, { port, host, reusePort: shared });
  const feeders: NetServer[] = [];
  while (shared && feeders.length < ACCEPT_SOCKETS - 1) {
    // Each accepted connection goes to the HTTP server as if it had accepted it: its timeouts,
    // connection tracking and draining apply alike.
    const feeder = createNetServer({ noDelay: true }, (socket) => server.emit('connection', socket));
    try {
      await listen(feeder, { port: bound, host, reusePort: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') break;
      await Promise.all(feeders.map(closed));
      throw error;
    }
    feeders.push(feeder);
  }
  return {
    port: bound,
    sockets: 1 + feeders.length,
    close: () => Promise.all([closed(server), ...feeders.map(closed)]).then(() => undefined),
  };
}
