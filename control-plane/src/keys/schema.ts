// API key request and response shapes.
import { z } from 'zod';
import { limitSchema, limitsSchema, modeSchema, tierNameSchema } from '../../../contracts/limits.js';
import { cursorSchema, pageLimitSchema } from '../http/pagination.js';
import { storableDateTimeSchema } from '../http/storable.js';

const nameSchema = z.string().trim().min(1, 'must not be empty').max(200).describe('label for people');
const expiresAtSchema = storableDateTimeSchema.describe('ISO 8601 date-time; the key stops working then');

export const createKeySchema = z
  .strictObject({
    name: nameSchema,
    tier: tierNameSchema.describe('name of an existing tier'),
    limits: limitsSchema.nullable().optional().describe("replaces the tier's limits for this key"),
    mode: modeSchema.nullable().optional().describe("overrides the tier's mode for this key (null: the tier's)"),
    expires_at: expiresAtSchema.nullable().optional(),
  })
  .meta({ id: 'KeyCreate' });

/** Keys per POST /v1/keys/batch: one transaction and one response of a few hundred KB at most. */
export const MAX_KEYS_PER_BATCH = 1000;

export const createKeysBatchSchema = z
  .strictObject({
    items: z
      .array(createKeySchema)
      .min(1, 'must hold at least one key')
      .max(MAX_KEYS_PER_BATCH, `must hold at most ${MAX_KEYS_PER_BATCH} keys`)
      .describe(`the keys to create, each as POST /v1/keys takes it (at most ${MAX_KEYS_PER_BATCH})`),
  })
  .meta({ id: 'KeyBatchCreate' });

export const updateKeySchema = z
  .strictObject({
    name: nameSchema.optional(),
    tier: tierNameSchema.optional(),
    limits: limitsSchema.nullable().optional().describe('null returns the key to its tier limits'),
    mode: modeSchema.nullable().optional().describe("null returns the key to its tier's mode"),
    active: z.boolean().optional(),
    expires_at: expiresAtSchema.nullable().optional().describe('null: never expires'),
  })
  .refine((body) => Object.keys(body).length > 0, 'at least one field must be given')
  .meta({ id: 'KeyUpdate' });

export const keyParamsSchema = z.strictObject({ id: z.string().max(200).describe('key id (key_…)') });

export const listKeysQuerySchema = z.strictObject({
  tier: tierNameSchema.optional(),
  active: z.enum(['true', 'false']).optional().describe('true or false'),
  q: z.string().min(1).max(200).optional().describe('part of the name, or the start of the prefix'),
  limit: pageLimitSchema,
  cursor: cursorSchema,
});

const timestamp = z.iso.datetime({ offset: true });

export const keySchema = z
  .strictObject({
    id: z.string(),
    name: z.string(),
    tier: tierNameSchema,
    limits: z.array(limitSchema).nullable().describe("override, or null for the tier's limits"),
    mode: modeSchema.nullable().describe("override, or null for the tier's mode"),
    active: z.boolean(),
    expires_at: timestamp.nullable(),
    created_at: timestamp,
    last_used_at: timestamp.nullable().describe('may lag by up to a minute'),
    revoked_at: timestamp.nullable().describe('set once the key is revoked (DELETE); revoked keys stay readable'),
    prefix: z.string().describe('first 8 characters of the secret'),
  })
  .meta({ id: 'Key' });

export const keyWithSecretSchema = keySchema
  .extend({ secret: z.string().describe('returned only here, once: store it now') })
  .meta({ id: 'KeyWithSecret' });

export const keyBatchSchema = z
  .strictObject({ items: z.array(keyWithSecretSchema).describe('the created keys, in the order of the request') })
  .meta({ id: 'KeyBatch' });

export const keyPageSchema = z
  .strictObject({ items: z.array(keySchema), next_cursor: z.string().nullable() })
  .meta({ id: 'KeyPage' });

export type CreateKey = z.output<typeof createKeySchema>;
export type CreateKeysBatch = z.output<typeof createKeysBatchSchema>;
export type UpdateKey = z.output<typeof updateKeySchema>;
export type ApiKey = z.infer<typeof keySchema>;
export type ApiKeyWithSecret = z.infer<typeof keyWithSecretSchema>;
