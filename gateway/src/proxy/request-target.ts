// The request target as the gateway routes and forwards it. Routing by prefix is only safe on a
// path in one canonical form: `/orders/../admin` must not match `/orders`, and
// `/reports/../../secret` must not reach an upstream as `/../../secret`. So, before routing:
// - an absolute-form target (`http://host/path`, which HTTP/1.1 servers must accept) becomes its
//   path and query;
// - dot segments are resolved (RFC 3986 §5.2.4), `%2E` counting as `.`;
// - what could be read as a separator by some upstream but not by the router is refused: an encoded
//   slash or backslash (`%2F`, `%5C`), a raw backslash, and `..` climbing above the root.
// Everything else, percent-escapes included, is passed on as the client wrote it.

/** The normalised origin-form target (path and query), or null when it must be refused. */
export function normaliseTarget(url: string): string | null {
  let target = url;
  if (target.charCodeAt(0) !== 47 /* '/' */) {
    const scheme = /^https?:\/\/[^/?#]*/i.exec(target);
    if (scheme === null) return null;
    target = target.slice(scheme[0].length);
    if (target === '' || target.charCodeAt(0) === 63 /* '?' */) target = `/${target}`;
  }
  const queryAt = target.indexOf('?');
  const path = queryAt === -1 ? target : target.slice(0, queryAt);
  // The common case: nothing to resolve or refuse.
  if (path.indexOf('%') === -1 && path.indexOf('/.') === -1 && path.indexOf('\\') === -1) return target;
  if (/%2f|%5c|\\/i.test(path)) return null;
  const resolved = removeDotSegments(path.replace(/%2e/gi, '.'));
  if (resolved === null) return null;
  return queryAt === -1 ? resolved : resolved + target.slice(queryAt);
}

/** `/a/./b/../c` → `/a/c`; null when `..` would climb above the root. */
function removeDotSegments(path: string): string | null {
  const segments = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < segments.length; i += 1) {
    const segment = segments[i] as string;
    const last = i === segments.length - 1;
    if (segment === '.') {
      if (last) out.push('');
    } else if (segment === '..') {
      if (out.length === 0) return null;
      out.pop();
      if (last) out.push('');
    } else {
      out.push(segment);
    }
  }
  return `/${out.join('/')}`;
}
