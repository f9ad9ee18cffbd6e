// The change feed between the control plane and gateways (DESIGN.md flow 2): the projection's
// record shapes and the messages published after each committed change. The Redis key layout
// lives in redis-keys.ts; the scripts that write and read the projection live in lua/.
import { z } from 'zod';
import { algorithmSchema, limitsSchema, tierNameSchema } from './limits.js';

/** What a gateway needs to know about one API key, stored under the SHA-256 (hex) of its secret. */
export const keyViewSchema = z.strictObject({
  id: z.string(),
  tier: tierNameSchema,
  /** Overrides the tier's limits when set. */
  limits: limitsSchema.nullable(),
  active: z.boolean(),
  /** ISO 8601, or null for a key that never expires. */
  expires_at: z.string().nullable(),
});
export type KeyView = z.infer<typeof keyViewSchema>;

/** What a gateway needs to know about one tier, stored under its name. */
export const tierViewSchema = z.strictObject({
  name: tierNameSchema,
  limits: limitsSchema,
  algorithm: algorithmSchema,
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
