// Limits, tiers and durations: the policy shapes that the control plane validates, stores and
// publishes, and that gateways enforce. Durations are written `30s`, `1m`, `1h`, `1d`, `30d`.
import { z } from 'zod';

export const MIN_WINDOW_SECONDS = 1;
export const MAX_WINDOW_SECONDS = 31 * 24 * 3600;

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const;
const DURATION_PATTERN = /^([1-9][0-9]{0,7})(s|m|h|d)$/;

/** `"90s"` → 90; null when the text is not a duration. Range checks are the schema's job. */
export function parseDurationSeconds(text: string): number | null {
  const match = DURATION_PATTERN.exec(text);
  if (!match) return null;
  return Number(match[1]) * UNIT_SECONDS[match[2] as keyof typeof UNIT_SECONDS];
}

export const durationSchema = z
  .string()
  // abort: a text that is no duration gets this one message, not also the range's.
  .regex(DURATION_PATTERN, { message: 'must be a duration such as 30s, 1m, 1h or 1d', abort: true })
  .refine((text) => {
    const seconds = parseDurationSeconds(text);
    return seconds !== null && seconds >= MIN_WINDOW_SECONDS && seconds <= MAX_WINDOW_SECONDS;
  }, 'must be between 1s and 31d')
  .describe('window length: a whole number followed by s, m, h or d (1s to 31d)');

export const limitSchema = z
  .strictObject({
    window: durationSchema,
    limit: z.number().int().min(1).max(1_000_000_000).describe('requests (cost units) admitted per window'),
  })
  .describe('one sliding-window limit');

export const limitsSchema = z
  .array(limitSchema)
  .min(1)
  .max(16)
  .superRefine((limits, ctx) => {
    const seen = new Set<number>();
    limits.forEach((item, index) => {
      const seconds = parseDurationSeconds(item.window);
      if (seconds === null) return;
      if (seen.has(seconds)) {
        ctx.addIssue({ code: 'custom', path: [index, 'window'], message: 'at most one limit per window' });
      }
      seen.add(seconds);
    });
  });

export const ALGORITHMS = ['sliding_window', 'sliding_log'] as const;
export const algorithmSchema = z
  .enum(ALGORITHMS)
  .describe('sliding_window: two-bucket counter, O(1) memory; sliding_log: exact, memory grows with the limit');

export const TIER_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;
export const tierNameSchema = z
  .string()
  .regex(TIER_NAME_PATTERN, 'must be 1 to 63 lowercase letters, digits, _ or -, starting with a letter or digit');

export type Limit = z.infer<typeof limitSchema>;
export type Algorithm = (typeof ALGORITHMS)[number];

/** A limit as gateways evaluate it: window in seconds, plus its label for headers. */
export interface WindowLimit {
  readonly window: string;
  readonly windowSeconds: number;
  readonly limit: number;
}

/** Sorted by window so every consumer (script arguments, headers) sees one order. */
export function toWindowLimits(limits: readonly Limit[]): WindowLimit[] {
  return limits
    .map((item) => ({ window: item.window, windowSeconds: parseDurationSeconds(item.window) ?? 0, limit: item.limit }))
    .sort((a, b) => a.windowSeconds - b.windowSeconds);
}

/**
 * Ms as the whole seconds clients are told (`t` in RateLimit, X-RateLimit-Reset, `reset_seconds`):
 * rounded up, so a client that waits that long finds the quota back. The gateway and the control
 * plane's usage endpoint both use it, so they give the same numbers.
 */
export function wholeSeconds(ms: number): number {
  return Math.ceil(ms / 1000);
}
