// Shared by every forked system under test: report the listening port to the parent over IPC and
// exit cleanly when the parent asks (SIGTERM) or goes away (IPC disconnect), so no child outlives a run.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReadyMessage {
  readonly type: 'ready';
  readonly port: number;
}

export function listenAndAnnounce(server: Server, onClose: () => Promise<void> = async () => {}): void {
  server.keepAliveTimeout = 65_000;
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    const message: ReadyMessage = { type: 'ready', port };
    process.send?.(message);
  });
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    server.closeAllConnections();
    server.close();
    onClose().finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('disconnect', stop);
}

/** The upstream every proxy forwards to, passed by the parent in the environment. */
export function upstreamUrlFromEnv(): URL {
  const value = process.env.BENCH_UPSTREAM_URL;
  if (!value) throw new Error('BENCH_UPSTREAM_URL is not set');
  return new URL(value);
}
