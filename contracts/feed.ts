// The change feed between the control plane and gateways: the projection's
// record shapes and the messages published after each committed change. The Redis key layout
// lives in redis-keys.ts; the scripts that write and read the projection live in lua/.
import { z } from 'zod';
import { algorithmSchema, concurrencySchema, limitsSchema, modeSchema, routeLimitsSchema, tierNameSchema, timezoneSchema } from './limits.js';

// Views are plain (not strict) objects: a gateway ignores fields it does not know, so during a
// rolling upgrade an older gateway still loads what a newer control plane publishes.

/** What a gateway needs to know about one API key, stored under the SHA-256 (hex) of its secret. */
export const keyViewSchema = z.object({
  id: z.string(),
  tier: tierNameSchema,
  /** Overrides the tier's limits when set. */
  limits: limitsSchema.nullable(),
  active: z.boolean(),
  /** ISO 8601, or null for a key that never expires. */
  expires_at: z.string().nullable(),
  /** Overrides the tier's mode when set (absent in projections written before modes existed). */
  mode: modeSchema.nullable().default(null),
});
export type KeyView = z.infer<typeof keyViewSchema>;

/** What a gateway needs to know about one tier, stored under its name. */
export const tierViewSchema = z.object({
  name: tierNameSchema,
  limits: limitsSchema,
  algorithm: algorithmSchema,
  // Defaults: what a projection written before these fields existed means.
  timezone: timezoneSchema.default('UTC'),
  mode: modeSchema.default('enforce'),
  concurrency: concurrencySchema.nullable().default(null),
  /** Limits per route name for this tier's keys, instead of the routes file's. */
  route_limits: routeLimitsSchema.nullable().default(null),
});
export type TierView = z.infer<typeof tierViewSchema>;

/**
 * One change. `epoch` changes whenever the projection is rebuilt from PostgreSQL (for example after
 * Redis restarted empty); `version` increases by exactly one per change within an epoch, so a
 * gateway that sees another epoch or a gap reloads the whole projection instead of guessing.
 * `id` is the key hash for `key`, the tier name for `tier`; `value` null means deleted.
 */
export const changeMessageSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('key'),
    epoch: z.string(),
    version: z.number().int().nonnegative(),
    id: z.string(),
    value: keyViewSchema.nullable(),
  }),
  z.strictObject({
    kind: z.literal('tier'),
    epoch: z.string(),
    version: z.number().int().nonnegative(),
    id: z.string(),
    value: tierViewSchema.nullable(),
  }),
  z.strictObject({
    kind: z.literal('rebuilt'),
    epoch: z.string(),
    version: z.number().int().nonnegative(),
  }),
]);
export type ChangeMessage = z.infer<typeof changeMessageSchema>;

/** Meta hash fields of the projection (redis-keys.ts projectionKeys().meta). */
export const META_EPOCH_FIELD = 'epoch';
export const META_VERSION_FIELD = 'version';

/** A whole projection as one consistent read: what a gateway loads on start and after a gap. */
export interface FeedSnapshot {
  readonly epoch: string;
  readonly version: number;
  /** SHA-256 hex of a secret → key view. */
  readonly keys: ReadonlyMap<string, KeyView>;
  /** Tier name → tier view. */
  readonly tiers: ReadonlyMap<string, TierView>;
  /** Entries that failed validation and were left out. */
  readonly invalidEntries: number;
}

/** Receives a projection as it is read: its head and tiers first, then each key. */
export interface SnapshotReader {
  begin(head: { readonly epoch: string; readonly version: number }, tiers: ReadonlyMap<string, TierView>): void;
  /** One key view; the same hash may come twice (the later view counts). */
  key(hash: string, view: KeyView): void;
}

export interface FeedListener {
  /** One message as published: JSON text of a ChangeMessage (validated by the follower). */
  onMessage(raw: string): void;
  /** The subscription was lost and is back: messages may have been missed, so reload. */
  onReconnect(): void;
}

/**
 * Where a gateway follows the feed from: Redis (projection + pub/sub) in production, an in-process
 * feed in the embedded mode. Gateways subscribe first, then read the snapshot, so nothing published
 * in between is lost.
 */
export interface FeedSource {
  /** The projection, or null while there is none (Redis came back empty, not rebuilt yet). */
  snapshot(): Promise<FeedSnapshot | null>;
  /**
   * Optional, for projections too large to hold twice: the projection handed to `reader` piece by
   * piece as it is read. Resolves with the number of invalid entries left out, or null while there
   * is no projection (`begin` not called). The keys may be read over a span of versions after the
   * head's; replaying the messages after the head makes the result exact, since every message
   * carries the whole view of what it changes.
   */
  readSnapshot?(reader: SnapshotReader): Promise<{ readonly invalidEntries: number } | null>;
  /** Epoch and version only (cheap), to notice a missed message; null while there is no projection. */
  head(): Promise<{ epoch: string; version: number } | null>;
  /** Resolves once subscribed; the returned function unsubscribes. */
  subscribe(listener: FeedListener): Promise<() => Promise<void>>;
}

/** JSON text → ChangeMessage, or null when it is not one (a bad message is never applied). */
export function parseChangeMessage(raw: string): ChangeMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  const result = changeMessageSchema.safeParse(value);
  return result.success ? result.data : null;
}

/** The text publishers send; the Lua publish script writes the same shape. */
export function encodeChangeMessage(message: ChangeMessage): string {
  return JSON.stringify(message);
}
