// RateLimit-Policy of draft-ietf-httpapi-ratelimit-headers-10: one item per limit, named by its item
// name, e.g. `"1m";q=5;w=60, "reports:1h";q=100;w=3600, "month";q=10000;w=2678400`. It depends only
// on the limits (and, for a calendar period, on the period's length), so it is built once per
// policy and period instead of once per request. A GCRA limit's burst is not a parameter of the
// draft, so it is left to /_gateway/quota rather than added here.
import type { Period } from '../../../contracts/calendar.js';
import type { WindowLimit } from '../../../contracts/limits.js';

export function policyHeaderValue(limits: readonly WindowLimit[], periods: readonly (Period | null)[] = []): string {
  return limits
    .map((item, index) => {
      const period = periods[index];
      const seconds = item.calendar !== null && period ? Math.round((period.next - period.start) / 1000) : item.windowSeconds;
      return `"${item.name}";q=${item.limit};w=${seconds}`;
    })
    .join(', ');
}
