// WebSocket passthrough: after the admission step admitted the upgrade, http-proxy-3 relays the
// handshake and then the raw bytes both ways. The same header rules as HTTP apply: the key and any
// client X-Tollgate-* never reach the upstream, which gets the key's id and tier instead.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createProxyServer } from 'http-proxy-3';
import type { Logger } from 'pino';
import { isTollgateAuthorization } from './api-key.js';
import { peerAddress, type TrustedProxies } from '../../../contracts/trusted-proxies.js';
import { VIA } from './headers.js';
import { PROBLEMS, writeRawProblem } from './respond.js';
import { upstreamPath, type Route } from './routes.js';

export interface WebSocketProxy {
  /** `keyId` and `tier` null on a keyless route. */
  forward(req: IncomingMessage, socket: Duplex, head: Buffer, route: Route, keyId: string | null, tier: string | null): void;
  close(): void;
}

/** The same forwarding rules as HTTP (headers.ts): the client's X-Forwarded-* only from a trusted proxy. */
function rewriteHeaders(req: IncomingMessage, keyId: string | null, tier: string | null, trusted: TrustedProxies): void {
  const headers = req.headers;
  for (const name of Object.keys(headers)) {
    if (name.startsWith('x-tollgate-') || name.startsWith('proxy-')) delete headers[name];
  }
  delete headers['x-api-key'];
  if (headers.authorization !== undefined && isTollgateAuthorization(headers.authorization)) delete headers.authorization;
  if (keyId !== null) {
    headers['x-tollgate-key-id'] = keyId;
    headers['x-tollgate-tier'] = tier ?? '';
  }
  const peer = peerAddress(req);
  if (!trusted.has(peer)) {
    delete headers['x-forwarded-for'];
    delete headers['x-forwarded-proto'];
    delete headers['x-forwarded-host'];
    delete headers.forwarded;
  }
  headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${headers['x-forwarded-for']}, ${peer}` : peer;
  headers['x-forwarded-proto'] ??= 'encrypted' in req.socket ? 'https' : 'http';
  if (headers.host !== undefined) headers['x-forwarded-host'] ??= headers.host;
  headers.via = headers.via ? `${headers.via}, ${VIA}` : VIA;
}

export function createWebSocketProxy(logger: Logger, trusted: TrustedProxies): WebSocketProxy {
  // The forwarding headers are set by rewriteHeaders, under the trusted-proxy rule.
  const proxy = createProxyServer({ ws: true, xfwd: false });
  const onError = (error: Error, _req: IncomingMessage, socket: unknown): void => {
    logger.debug({ err: error }, 'websocket upstream failed');
    const target = socket as Socket;
    // Nothing written yet: the upstream never answered the handshake, so the client still expects
    // an HTTP response.
    if (target.writable && target.bytesWritten === 0) {
      writeRawProblem(target, PROBLEMS.upstreamUnavailable);
    } else {
      target.destroy();
    }
  };
  proxy.on('error', onError);
  // Upstream sides of open WebSockets, so close() can end them (they would keep the process alive).
  const upstreamSockets = new Set<Socket>();
  proxy.on('open', (proxySocket) => {
    upstreamSockets.add(proxySocket);
    proxySocket.on('error', () => proxySocket.destroy());
    proxySocket.once('close', () => upstreamSockets.delete(proxySocket));
  });

  return {
    forward(req, socket, head, route, keyId, tier) {
      socket.on('error', () => socket.destroy());
      rewriteHeaders(req, keyId, tier, trusted);
      req.url = upstreamPath(route, req.url ?? '/');
      proxy.ws(req, socket, head, { target: route.origin });
    },
    close() {
      for (const socket of upstreamSockets) socket.destroy();
      proxy.close();
    },
  };
}

/** True for a WebSocket handshake (`Upgrade: websocket`); other protocols (h2c, …) are not proxied. */
export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  const upgrade = req.headers.upgrade;
  return upgrade !== undefined && upgrade.split(',').some((token) => token.trim().toLowerCase() === 'websocket');
}
