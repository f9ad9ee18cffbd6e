// Limits, tiers and durations: the policy shapes that the control plane validates, stores and
// publishes, and that gateways enforce.
//
// A limit is `{ window, limit }` (plus `burst` in a GCRA tier). A window is a duration (`30s`, `1m`,
// `1h`, `1d`, `30d`: a sliding window) or a calendar period (`day`, `month`, in the tier's time zone).
import { z } from 'zod';

export const MIN_WINDOW_SECONDS = 1;
export const MAX_WINDOW_SECONDS = 31 * 24 * 3600;

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const;
const DURATION_PATTERN = /^([1-9][0-9]{0,7})(s|m|h|d)$/;

export const CALENDAR_WINDOWS = ['day', 'month'] as const;
export type CalendarWindow = (typeof CALENDAR_WINDOWS)[number];

/** Lengths that order calendar periods among durations (a day as long as `1d`, a month as `31d`). */
const CALENDAR_ORDER_SECONDS: Record<CalendarWindow, number> = { day: 86_400, month: MAX_WINDOW_SECONDS };

/** `"90s"` → 90; null when the text is not a duration. Range checks are the schema's job. */
export function parseDurationSeconds(text: string): number | null {
  const match = DURATION_PATTERN.exec(text);
  if (!match) return null;
  return Number(match[1]) * UNIT_SECONDS[match[2] as keyof typeof UNIT_SECONDS];
}

export function isCalendarWindow(text: string): text is CalendarWindow {
  return (CALENDAR_WINDOWS as readonly string[]).includes(text);
}

export const windowSchema = z
  .string()
  .refine((text) => isCalendarWindow(text) || DURATION_PATTERN.test(text), {
    message: 'must be a duration such as 30s, 1m, 1h or 1d, or day or month',
    // A text that is no window gets this one message, not also the range's.
    abort: true,
  })
  .refine((text) => {
    if (isCalendarWindow(text)) return true;
    const seconds = parseDurationSeconds(text);
    return seconds !== null && seconds >= MIN_WINDOW_SECONDS && seconds <= MAX_WINDOW_SECONDS;
  }, 'must be between 1s and 31d')
  .describe('a sliding window (a whole number followed by s, m, h or d, from 1s to 31d) or a calendar period: day or month');

export const limitSchema = z
  .strictObject({
    window: windowSchema,
    limit: z.number().int().min(1).max(1_000_000_000).describe('requests (cost units) admitted per window'),
    burst: z
      .number()
      .int()
      .min(1)
      .max(1_000_000_000)
      .optional()
      .describe('GCRA tiers only: units that may go at once (default: the limit)'),
  })
  .describe('one limit');

export const limitsSchema = z
  .array(limitSchema)
  .min(1)
  .max(16)
  .superRefine((limits, ctx) => {
    const seen = new Set<string>();
    limits.forEach((item, index) => {
      const seconds = parseDurationSeconds(item.window);
      const identity = seconds === null ? item.window : `${seconds}s`;
      if (seen.has(identity)) ctx.addIssue({ code: 'custom', path: [index, 'window'], message: 'at most one limit per window' });
      seen.add(identity);
    });
  });

export const ALGORITHMS = ['sliding_window', 'sliding_log', 'gcra'] as const;
export const algorithmSchema = z
  .enum(ALGORITHMS)
  .describe(
    'sliding_window: two-bucket counter, O(1) memory; sliding_log: exact, memory grows with the limit; gcra: a smooth rate of limit per window with a burst, exact, O(1) memory',
  );

export const MODES = ['enforce', 'shadow'] as const;
export const modeSchema = z
  .enum(MODES)
  .describe('enforce: refuse over a limit; shadow: forward anyway, consume nothing, and count what enforcing would have refused');

/** An IANA time zone this runtime knows (`Europe/Paris`, `UTC`). */
export const timezoneSchema = z
  .string()
  .max(64)
  .refine((name) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: name });
      return true;
    } catch {
      return false;
    }
  }, 'must be an IANA time zone such as UTC or Europe/Paris')
  .describe("the time zone of the tier's day and month windows (IANA name)");

export const concurrencySchema = z
  .number()
  .int()
  .min(1)
  .max(1_000_000)
  .describe('most requests of one key in flight at once, across all gateways');

/** A route's name as routes files give it (its prefix when it has no name). */
export const ROUTE_NAME_PATTERN = /^[A-Za-z0-9/][A-Za-z0-9_./-]{0,63}$/;
export const routeNameSchema = z.string().regex(ROUTE_NAME_PATTERN, 'must be 1 to 64 letters, digits or _ . / -');

export const routeLimitsSchema = z
  .record(routeNameSchema, limitsSchema)
  .refine((routes) => Object.keys(routes).length <= 64, 'must name at most 64 routes')
  .describe("limits per route name, for this tier's keys on those routes (instead of the routes file's)");

/** A problem with a policy that the shapes alone cannot see, at a path into the body. */
export interface PolicyIssue {
  readonly path: (string | number)[];
  readonly message: string;
}

/**
 * `burst` means something only to GCRA, and only over a duration: a limit that carries one
 * elsewhere is refused rather than silently ignored. `path` leads to the limits list in the body.
 */
export function burstIssues(limits: readonly Limit[] | null | undefined, algorithm: Algorithm, path: (string | number)[]): PolicyIssue[] {
  const issues: PolicyIssue[] = [];
  limits?.forEach((item, index) => {
    if (item.burst === undefined) return;
    if (algorithm !== 'gcra') issues.push({ path: [...path, index, 'burst'], message: 'burst applies only to gcra tiers' });
    else if (isCalendarWindow(item.window)) issues.push({ path: [...path, index, 'burst'], message: 'burst applies only to duration windows, not day or month' });
  });
  return issues;
}

/** burstIssues for a tier's own limits and each of its route limits. */
export function tierPolicyIssues(tier: {
  readonly limits: readonly Limit[];
  readonly algorithm: Algorithm;
  readonly route_limits?: Readonly<Record<string, readonly Limit[]>> | null;
}): PolicyIssue[] {
  const issues = burstIssues(tier.limits, tier.algorithm, ['limits']);
  for (const [route, limits] of Object.entries(tier.route_limits ?? {})) issues.push(...burstIssues(limits, tier.algorithm, ['route_limits', route]));
  return issues;
}

export const TIER_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;
export const tierNameSchema = z
  .string()
  .regex(TIER_NAME_PATTERN, 'must be 1 to 63 lowercase letters, digits, _ or -, starting with a letter or digit');

export type Limit = z.infer<typeof limitSchema>;
export type Algorithm = (typeof ALGORITHMS)[number];
export type Mode = (typeof MODES)[number];

/** A limit as gateways evaluate it. */
export interface WindowLimit {
  /** Its item name in the RateLimit fields: the window (`1m`, `month`), or `<route>:<window>`. */
  readonly name: string;
  /** The window as configured: a duration or `day`/`month`. */
  readonly window: string;
  /** The sliding window's length; for a calendar period, 0 (its length is the period's). */
  readonly windowSeconds: number;
  readonly limit: number;
  /** GCRA tiers: units that may go at once; null elsewhere. */
  readonly burst: number | null;
  /** `day` or `month` for a calendar period; null for a sliding window. */
  readonly calendar: CalendarWindow | null;
  /** Where its count lives besides the subject's own: '' for a key's limits, `r:<route>` for a route's. */
  readonly scope: string;
}

function orderSeconds(limit: WindowLimit): number {
  return limit.calendar === null ? limit.windowSeconds : CALENDAR_ORDER_SECONDS[limit.calendar];
}

/**
 * Limits as gateways evaluate them, sorted by window length so every consumer (script arguments,
 * headers) sees one order. A route's limits (`route` set) are named `<route>:<window>` and counted
 * apart from the key's own.
 */
export function toWindowLimits(limits: readonly Limit[], route?: string): WindowLimit[] {
  return limits
    .map((item) => ({
      name: route === undefined ? item.window : `${route}:${item.window}`,
      window: item.window,
      windowSeconds: parseDurationSeconds(item.window) ?? 0,
      limit: item.limit,
      burst: item.burst ?? null,
      calendar: isCalendarWindow(item.window) ? item.window : null,
      scope: route === undefined ? '' : `r:${route}`,
    }))
    .sort((a, b) => orderSeconds(a) - orderSeconds(b));
}

/**
 * Ms as the whole seconds clients are told (`t` in RateLimit, X-RateLimit-Reset, `reset_seconds`):
 * rounded up, so a client that waits that long finds the quota back. The gateway and the control
 * plane's usage endpoint both use it, so they give the same numbers.
 */
export function wholeSeconds(ms: number): number {
  return Math.ceil(ms / 1000);
}
