// The address of the client a request came from. Behind a proxy the socket's peer is the proxy, so
// the client is read from X-Forwarded-For, but only when the peer is a proxy we trust
// (GATEWAY_TRUSTED_PROXIES): anyone else can write anything there. The chain is read from the right
// (each proxy appends the address it saw), skipping trusted proxies; the first address that is not
// one of ours is the client's. Node reports IPv4 peers of a dual-stack socket as `::ffff:a.b.c.d`;
// they are matched and reported as plain IPv4.
import { BlockList, isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';

const MAPPED_IPV4 = '::ffff:';

/** `::ffff:10.0.0.1` → `10.0.0.1`; other addresses unchanged. */
export function plainAddress(address: string): string {
  return address.startsWith(MAPPED_IPV4) && isIP(address.slice(MAPPED_IPV4.length)) === 4 ? address.slice(MAPPED_IPV4.length) : address;
}

export class TrustedProxies {
  private readonly list = new BlockList();
  readonly size: number;

  /** Entries are addresses or CIDRs (`10.0.0.0/8`, `fd00::/8`), already validated. */
  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const [address = '', bits] = entry.split('/');
      const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      if (bits === undefined) this.list.addAddress(address, family);
      else this.list.addSubnet(address, Number(bits), family);
    }
    this.size = entries.length;
  }

  has(address: string): boolean {
    if (this.size === 0) return false;
    const plain = plainAddress(address);
    const family = isIP(plain);
    return family !== 0 && this.list.check(plain, family === 6 ? 'ipv6' : 'ipv4');
  }
}

/** The socket peer's address, plain IPv4 where Node reports a mapped one. */
export function peerAddress(req: IncomingMessage): string {
  return plainAddress(req.socket.remoteAddress ?? '');
}

/** The client's address: the peer's, or the right-most untrusted X-Forwarded-For entry behind a trusted proxy. */
export function clientAddress(req: IncomingMessage, trusted: TrustedProxies): string {
  const peer = peerAddress(req);
  if (!trusted.has(peer)) return peer;
  const forwarded = req.headers['x-forwarded-for'];
  if (forwarded === undefined) return peer;
  const chain = (typeof forwarded === 'string' ? forwarded : forwarded.join(',')).split(',');
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

/** `"10.0.0.0/8, 192.168.1.5"` → entries, or the first one that is not an address or CIDR. */
export function parseTrustedProxies(text: string): { entries: string[] } | { invalid: string } {
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  for (const entry of entries) {
    const [address = '', bits, extra] = entry.split('/');
    const family = isIP(address);
    const maxBits = family === 6 ? 128 : 32;
    const bitsOk = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= maxBits);
    if (family === 0 || !bitsOk || extra !== undefined) return { invalid: entry };
  }
  return { entries };
}
