// What a route limited by client address counts: the address, with IPv6 addresses grouped by their
// network prefix (default /64, one site's or host's usual allocation), so one host cannot walk
// through the addresses it owns to get a fresh limit each time.
import { isIP } from 'node:net';

/** Eight 16-bit groups of an IPv6 address (an embedded IPv4 tail included). */
function ipv6Groups(address: string): number[] {
  let text = address.split('%')[0] as string;
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail) {
    const [a, b, c, d] = (tail[1] as string).split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, -(tail[1] as string).length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = rest === undefined || rest === '' ? [] : rest.split(':');
  const missing = 8 - left.length - right.length;
  const groups = [...left, ...(rest === undefined ? [] : Array.from({ length: missing }, () => '0')), ...right];
  return groups.map((group) => parseInt(group, 16));
}

/** `2001:db8:1:2:aaaa::1` with 64 bits → `2001:db8:1:2::/64`. */
export function ipv6Prefix(address: string, bits: number): string {
  const groups = ipv6Groups(address).map((group, index) => {
    const kept = Math.max(0, Math.min(16, bits - index * 16));
    return kept === 0 ? 0 : group & (0xffff << (16 - kept)) & 0xffff;
  });
  // The usual compressed form: the longest run of zero groups becomes `::`.
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i += 1;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j += 1;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((group) => group.toString(16));
  const text =
    bestLength < 2 ? hex.join(':') : `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
  return `${text}/${bits}`;
}

/** The limiter subject of a client address: `ip:<IPv4>` or `ip:<IPv6 prefix>/<bits>`. */
export function clientSubject(address: string, ipv6Bits: number): string {
  return isIP(address) === 6 ? `ip:${ipv6Prefix(address, ipv6Bits)}` : `ip:${address}`;
}
