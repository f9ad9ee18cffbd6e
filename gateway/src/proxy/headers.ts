// Header rewriting for both directions of the proxy (RFC 9110 §7.6.1). Works on raw
// name/value arrays so repeated headers (Set-Cookie) survive and no header object is built twice.
import type { IncomingMessage } from 'node:http';
import { util as undiciUtil } from 'undici';
import { latin1Text } from '../runtime/latin1.js';
import { isTollgateAuthorization } from './api-key.js';
import { peerAddress, type TrustedProxies } from '../../../contracts/trusted-proxies.js';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

// Rebuilt below (Host by the client library from the upstream origin) or not forwardable: undici
// refuses `expect`, and Node's server already answered 100-continue.
const REPLACED = new Set(['host', 'expect', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'via']);

/** The most header fields a request may carry; more get 431 (Apache's default is the same). */
export const MAX_REQUEST_HEADER_FIELDS = 100;

export const VIA = '1.1 tollgate';

/**
 * The response fields the gateway adds itself (rate-limit fields, Retry-After): when the upstream
 * sends one of them too, the upstream's is kept and the gateway's left out.
 */
export function isGatewayResponseField(lowerName: string): boolean {
  return lowerName.startsWith('ratelimit') || lowerName.startsWith('x-ratelimit-') || lowerName === 'retry-after';
}

/** Extra hop-by-hop names a `Connection` header lists; null in the common case (keep-alive/close). */
function connectionTokens(value: string | undefined): Set<string> | null {
  if (value === undefined) return null;
  // The usual values, without a split per request.
  if (value.length <= 10) {
    const lower = value.toLowerCase();
    if (lower === 'keep-alive' || lower === 'close') return null;
  }
  let tokens: Set<string> | null = null;
  for (const token of value.split(',')) {
    const name = token.trim().toLowerCase();
    if (name === '' || name === 'keep-alive' || name === 'close') continue;
    (tokens ??= new Set()).add(name);
  }
  return tokens;
}

/** What the proxy needs to know of a header name, worked out once per spelling (see factsOf). */
interface NameFacts {
  readonly lower: string;
  readonly hopByHop: boolean;
  /** Not forwarded upstream: hop-by-hop, rebuilt by the gateway, the API key, any X-Tollgate-*. */
  readonly notForwarded: boolean;
  readonly authorization: boolean;
  readonly rateLimit: boolean;
  /** RFC 7239 `Forwarded`: kept only when it comes from a trusted proxy. */
  readonly forwarded: boolean;
}

// Header names come in a handful of spellings ("Content-Type", "content-type"), each a new string
// per message: remembering the facts per spelling saves a lower-casing and several set lookups per
// header. Bounded, so a client inventing names cannot grow it; beyond it, facts are worked out afresh.
const MAX_SPELLINGS = 1024;
const factsBySpelling = new Map<string, NameFacts>();

function factsOf(name: string): NameFacts {
  const known = factsBySpelling.get(name);
  if (known !== undefined) return known;
  const lower = name.toLowerCase();
  const hopByHop = HOP_BY_HOP.has(lower) || lower.startsWith('proxy-');
  const facts: NameFacts = {
    lower,
    hopByHop,
    notForwarded: hopByHop || REPLACED.has(lower) || lower === 'x-api-key' || lower.startsWith('x-tollgate-'),
    authorization: lower === 'authorization',
    rateLimit: isGatewayResponseField(lower),
    forwarded: lower === 'forwarded',
  };
  if (factsBySpelling.size < MAX_SPELLINGS) factsBySpelling.set(name, facts);
  return facts;
}

/**
 * The headers the upstream receives, as a flat [name, value, …] list. The gateway's own come first,
 * so an upstream that keeps only the first N fields still gets them: the key's id and tier (none on
 * a keyless route), then
 * X-Forwarded-For/-Proto/-Host and Via. What a client sent in those names is believed only when the
 * connection comes from a trusted proxy (GATEWAY_TRUSTED_PROXIES); otherwise they describe this hop
 * alone, and a client's `Forwarded` is dropped. Then the client's fields, less hop-by-hop ones, the
 * API key and any X-Tollgate-*.
 */
export function upstreamRequestHeaders(req: IncomingMessage, keyId: string | null, tier: string | null, trusted: TrustedProxies): string[] {
  const headers = req.headers;
  const peer = peerAddress(req);
  const fromProxy = trusted.has(peer);
  // A keyless route's requests carry no key identity (any the client sent is removed below).
  const out: string[] = keyId === null ? [] : ['x-tollgate-key-id', keyId, 'x-tollgate-tier', tier ?? ''];
  const forwardedFor = fromProxy ? headers['x-forwarded-for'] : undefined;
  out.push('x-forwarded-for', forwardedFor ? `${forwardedFor}, ${peer}` : peer);
  const proto = fromProxy ? headers['x-forwarded-proto'] : undefined;
  out.push('x-forwarded-proto', typeof proto === 'string' && proto !== '' ? proto : 'encrypted' in req.socket ? 'https' : 'http');
  const forwardedHost = fromProxy ? headers['x-forwarded-host'] : undefined;
  const host = typeof forwardedHost === 'string' && forwardedHost !== '' ? forwardedHost : headers.host;
  if (host !== undefined) out.push('x-forwarded-host', host);
  const via = headers.via;
  out.push('via', via ? `${via}, ${VIA}` : VIA);
  const raw = req.rawHeaders;
  const listed = connectionTokens(headers.connection);
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const facts = factsOf(name);
    if (facts.notForwarded || (listed !== null && listed.has(facts.lower))) continue;
    if (facts.forwarded && !fromProxy) continue;
    const value = raw[i + 1] as string;
    if (facts.authorization && isTollgateAuthorization(value)) continue;
    out.push(name, value);
  }
  return out;
}

/** A raw header value as text; undici hands them over as bytes, and Node writes heads as latin1. */
function text(raw: Buffer | string): string {
  return typeof raw === 'string' ? raw : latin1Text(raw);
}

/**
 * A raw header name as lower-case text. undici's own lookup finds a well-known name's string in a
 * tree of them without leaving JavaScript, where decoding the bytes is a call into C++ per name
 * (about 800 instructions, callgrind) and the new string is then hashed again by factsOf.
 */
const headerName: (raw: Buffer | string) => string = undiciUtil.headerNameToString;

/**
 * The upstream's response headers (undici's raw [name, value, …] list) without hop-by-hop ones (Node
 * frames the body itself), followed by the gateway's `extra` fields (rate-limit headers) as one flat
 * list. Names are lower-cased (field names are case-insensitive, RFC 9110 §5.1); values are kept as
 * latin1 bytes, so Node writes back exactly what the upstream sent. A field the upstream sent itself
 * is kept and the gateway's one of that name left out, as when the gateway's were set first and the
 * upstream's written over them.
 */
export function clientResponseHeaders(raw: readonly (Buffer | string)[], extra: readonly string[] = []): string[] {
  let listed: Set<string> | null = null;
  const out: string[] = [];
  let clash: Set<string> | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = headerName(raw[i] as Buffer | string);
    const facts = factsOf(name);
    if (facts.hopByHop) {
      if (facts.lower === 'connection') listed = connectionTokens(text(raw[i + 1] as Buffer | string));
      continue;
    }
    if (facts.rateLimit) (clash ??= new Set()).add(facts.lower);
    out.push(name, text(raw[i + 1] as Buffer | string));
  }
  // Names a Connection header lists are hop-by-hop too (rare: a second pass only then).
  let kept = out;
  if (listed !== null) {
    kept = withoutListed(out, listed);
    if (clash !== null) clash = rateLimitNames(kept);
  }
  for (let i = 0; i < extra.length; i += 2) {
    const name = extra[i] as string;
    if (clash === null || !clash.has(name)) kept.push(name, extra[i + 1] as string);
  }
  return kept;
}

function rateLimitNames(headers: readonly string[]): Set<string> {
  const names = new Set<string>();
  for (let i = 0; i < headers.length; i += 2) {
    const facts = factsOf(headers[i] as string);
    if (facts.rateLimit) names.add(facts.lower);
  }
  return names;
}

function withoutListed(headers: readonly string[], listed: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    if (!listed.has(factsOf(name).lower)) out.push(name, headers[i + 1] as string);
  }
  return out;
}

/** The request has a body to stream (undici must not be handed an empty stream for a GET). */
export function hasRequestBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
