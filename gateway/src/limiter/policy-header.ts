// RateLimit-Policy of draft-ietf-httpapi-ratelimit-headers-10: one item per limit, named by its
// window, e.g. `"1m";q=5;w=60, "1h";q=100;w=3600`. It depends only on the key's limits, so the key
// table builds it once per swap instead of once per request.
import type { WindowLimit } from '../../../contracts/limits.js';

export function policyHeaderValue(limits: readonly WindowLimit[]): string {
  return limits.map((item) => `"${item.window}";q=${item.limit};w=${item.windowSeconds}`).join(', ');
}
