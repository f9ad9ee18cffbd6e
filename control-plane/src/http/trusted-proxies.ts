// CONTROL_PLANE_TRUSTED_PROXIES: the front proxies (nginx) whose X-Forwarded-For and
// X-Forwarded-Proto are believed. Anyone can send those headers, so they count only when the
// socket's peer is one of these addresses; an IPv4 entry also matches the peer's IPv4-mapped IPv6
// form (::ffff:10.0.0.1), which is how a dual-stack socket reports IPv4 clients.
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

export interface ProxyTrust {
  /** The entries as configured, for logs and tests. */
  readonly entries: readonly string[];
  trusts(address: string | undefined): boolean;
}

/** Parses `10.0.0.0/8, 127.0.0.1, fd00::/8`; throws an Error whose message names the bad entry. */
export function parseTrustedProxies(text: string): ProxyTrust {
  const list = new BlockList();
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  for (const entry of entries) {
    const [address = '', prefix, ...rest] = entry.split('/');
    const family = isIP(address);
    const bits = family === 4 ? 32 : 128;
    if (family === 0 || rest.length > 0) throw new Error(`has an entry that is not an address or CIDR: ${entry}`);
    if (prefix === undefined) {
      list.addAddress(address, family === 4 ? 'ipv4' : 'ipv6');
      continue;
    }
    const length = /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
    if (!(length >= 0 && length <= bits)) throw new Error(`has a CIDR with a bad prefix length: ${entry}`);
    list.addSubnet(address, length, family === 4 ? 'ipv4' : 'ipv6');
  }
  return {
    entries: Object.freeze(entries),
    trusts(address) {
      if (address === undefined) return false;
      const family = isIP(address);
      return family !== 0 && list.check(address, family === 4 ? 'ipv4' : 'ipv6');
    },
  };
}

export const NO_TRUSTED_PROXIES: ProxyTrust = parseTrustedProxies('');

/** `::ffff:1.2.3.4` → `1.2.3.4`, so one client is one address whichever way the socket saw it. */
function canonical(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return mapped?.[1] ?? address.toLowerCase();
}

/**
 * The client's address: the socket's peer, or, when the peer is a trusted proxy, the right-most
 * X-Forwarded-For entry that is not a trusted proxy (entries left of it were written by the
 * client and prove nothing).
 */
export function clientAddress(request: IncomingMessage, trust: ProxyTrust): string {
  const peer = request.socket.remoteAddress ?? '';
  if (!trust.trusts(peer)) return canonical(peer);
  const forwarded = headerValues(request.headers['x-forwarded-for']);
  // Every hop so far is a trusted proxy: the nearest one stands in if no untrusted hop follows
  // (the header is missing, garbled, or the client is itself one of the proxies).
  let nearest = peer;
  for (let index = forwarded.length - 1; index >= 0; index -= 1) {
    const hop = forwarded[index] as string;
    if (isIP(hop) === 0) break;
    if (!trust.trusts(hop)) return canonical(hop);
    nearest = hop;
  }
  return canonical(nearest);
}

/** True when the request reached us over TLS: directly, or as a trusted proxy says. */
export function cameOverTls(request: IncomingMessage, trust: ProxyTrust): boolean {
  if ((request.socket as { encrypted?: boolean }).encrypted === true) return true;
  if (!trust.trusts(request.socket.remoteAddress)) return false;
  // The first entry is the scheme the first proxy saw from the client.
  return headerValues(request.headers['x-forwarded-proto'])[0]?.toLowerCase() === 'https';
}

function headerValues(header: string | string[] | undefined): string[] {
  const joined = Array.isArray(header) ? header.join(',') : (header ?? '');
  return joined
    .split(',')
    .map((value) => value.trim())
    .filter((value) => value !== '');
}
