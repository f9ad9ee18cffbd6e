// Which proxies are believed about the client: the rule the front proxy (nginx) and both services
// share, so the gateway and the control plane derive the same client address from one request.
// Behind a proxy the socket's peer is the proxy, so the client is read from X-Forwarded-For (and the
// scheme from X-Forwarded-Proto), but only when the peer is a proxy we trust: anyone else can write
// anything there. The chain is read from the right (each proxy appends the address it saw),
// skipping trusted proxies; the first address that is not one of ours is the client's. Node reports
// IPv4 peers of a dual-stack socket as `::ffff:a.b.c.d`; they are matched and reported as IPv4.
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { z } from 'zod';

const MAPPED_IPV4 = '::ffff:';

export class TrustedProxiesError extends Error {
  override readonly name = 'TrustedProxiesError';
  readonly code = 'TRUSTED_PROXIES_INVALID';
}

/** `::ffff:10.0.0.1` → `10.0.0.1`; other addresses unchanged. */
export function plainAddress(address: string): string {
  const tail = address.slice(MAPPED_IPV4.length);
  return address.toLowerCase().startsWith(MAPPED_IPV4) && isIP(tail) === 4 ? tail : address;
}

export class TrustedProxies {
  private readonly list = new BlockList();

  /** `entries`: addresses and CIDRs (`10.0.0.0/8`, `fd00::/8`); use `parse` for configured text. */
  private constructor(readonly entries: readonly string[]) {
    for (const entry of entries) {
      const [address = '', bits] = entry.split('/');
      const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      if (bits === undefined) this.list.addAddress(address, family);
      else this.list.addSubnet(address, Number(bits), family);
    }
  }

  /** `"10.0.0.0/8, 192.168.1.5"`; throws TrustedProxiesError naming the first bad entry. */
  static parse(text: string): TrustedProxies {
    const entries = text
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '');
    for (const entry of entries) {
      const [address = '', bits, extra] = entry.split('/');
      const family = isIP(address);
      const bitsOk = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32));
      if (family === 0 || !bitsOk || extra !== undefined) {
        throw new TrustedProxiesError(`must be a comma-separated list of IP addresses or CIDRs ("${entry}" is neither)`);
      }
    }
    return new TrustedProxies(Object.freeze(entries));
  }

  static readonly NONE = new TrustedProxies([]);

  has(address: string | undefined): boolean {
    if (address === undefined || this.entries.length === 0) return false;
    const plain = plainAddress(address);
    const family = isIP(plain);
    return family !== 0 && this.list.check(plain, family === 6 ? 'ipv6' : 'ipv4');
  }
}

/** The socket peer's address, plain IPv4 where Node reports a mapped one. */
export function peerAddress(req: IncomingMessage): string {
  return plainAddress(req.socket.remoteAddress ?? '');
}

/** The values of a list header, however many times it was sent. */
function listValues(header: string | string[] | undefined): string[] {
  if (header === undefined) return [];
  return (typeof header === 'string' ? header : header.join(',')).split(',');
}

/** The client's address: the peer's, or the right-most untrusted X-Forwarded-For entry behind a trusted proxy. */
export function clientAddress(req: IncomingMessage, trusted: TrustedProxies): string {
  const peer = peerAddress(req);
  if (!trusted.has(peer)) return peer;
  const chain = listValues(req.headers['x-forwarded-for']);
  let client = peer;
  for (let i = chain.length - 1; i >= 0; i -= 1) {
    const entry = plainAddress((chain[i] as string).trim());
    // Not an address: the hop that wrote it is the last one we can vouch for.
    if (isIP(entry) === 0) return client;
    client = entry;
    if (!trusted.has(entry)) return entry;
  }
  return client;
}

/** True when the request reached us over TLS: directly, or as a trusted proxy says. */
export function cameOverTls(req: IncomingMessage, trusted: TrustedProxies): boolean {
  if ((req.socket as { encrypted?: boolean }).encrypted === true) return true;
  if (!trusted.has(peerAddress(req))) return false;
  // The first entry is the scheme the first proxy saw from the client.
  return listValues(req.headers['x-forwarded-proto'])[0]?.trim().toLowerCase() === 'https';
}

/** GATEWAY_TRUSTED_PROXIES and CONTROL_PLANE_TRUSTED_PROXIES as both services validate them. */
export const trustedProxiesSchema = z.string().transform((text, ctx) => {
  try {
    return TrustedProxies.parse(text);
  } catch (error) {
    if (!(error instanceof TrustedProxiesError)) throw error;
    ctx.addIssue({ code: 'custom', message: error.message });
    return z.NEVER;
  }
});
