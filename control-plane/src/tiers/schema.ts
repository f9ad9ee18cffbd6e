// Tier request and response shapes. The limit shapes come from contracts/limits.ts so the control
// plane validates exactly what gateways enforce.
import { z } from 'zod';
import { algorithmSchema, limitSchema, limitsSchema, tierNameSchema } from '../../../contracts/limits.js';

const descriptionSchema = z.string().max(1000).describe('free text for operators');

export const createTierSchema = z
  .strictObject({
    name: tierNameSchema.describe('unique tier name'),
    description: descriptionSchema.nullable().optional(),
    limits: limitsSchema.describe('every limit must admit a request; at most one limit per window'),
    algorithm: algorithmSchema.optional().describe('default sliding_window'),
  })
  .meta({ id: 'TierCreate' });

export const updateTierSchema = z
  .strictObject({
    description: descriptionSchema.nullable().optional().describe('null clears it'),
    limits: limitsSchema.optional(),
    algorithm: algorithmSchema.optional(),
  })
  .refine((body) => Object.keys(body).length > 0, 'at least one field must be given')
  .meta({ id: 'TierUpdate' });

export const tierParamsSchema = z.strictObject({ name: z.string().max(200).describe('tier name') });

export const tierSchema = z
  .strictObject({
    name: tierNameSchema,
    description: z.string().nullable(),
    limits: z.array(limitSchema),
    algorithm: algorithmSchema,
    created_at: z.iso.datetime({ offset: true }),
    updated_at: z.iso.datetime({ offset: true }),
  })
  .meta({ id: 'Tier' });

export const tierListSchema = z.strictObject({ items: z.array(tierSchema) }).meta({ id: 'TierList' });

export type CreateTier = z.output<typeof createTierSchema>;
export type UpdateTier = z.output<typeof updateTierSchema>;
export type Tier = z.infer<typeof tierSchema>;
