// GET /v1/gateways: the running gateways as their heartbeats describe them, and how far each is
// behind the latest configuration change.
import { z } from 'zod';

export const gatewaySchema = z.strictObject({
  id: z.string().describe('the gateway’s id, new at each start (one per process group, whatever its workers)'),
  host: z.string().describe('the host name of the machine or container it runs on'),
  version: z.string().describe('the Tollgate release it runs'),
  started_at: z.iso.datetime({ offset: true }),
  workers: z.number().int().describe('worker processes sharing its public port'),
  last_seen_at: z.iso.datetime({ offset: true }).describe('its last heartbeat (every 2 s)'),
  applied_revision: z.number().int().describe('the last configuration change it applied'),
  lag_revisions: z.number().int().describe('changes made since, that it had not applied at its last heartbeat'),
  lag_seconds: z.number().describe('how long the oldest change it has not applied has been waiting; 0 when up to date'),
  state: z.enum(['live', 'stale']).describe('stale: not heard from for 10 s'),
});
export type GatewayItem = z.infer<typeof gatewaySchema>;

export const gatewayListSchema = z.strictObject({ items: z.array(gatewaySchema) });

export const gatewayParamsSchema = z.strictObject({ id: z.string().max(100).describe('gateway id (gw_…)') });
