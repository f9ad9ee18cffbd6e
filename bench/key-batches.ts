// Creating many keys the way an operator would: POST /v1/keys/batch, a few calls in flight at once.
import { AdminApiError, type AdminClient, type CreatedKey } from './admin-client.js';

/** What the control plane takes per call (MAX_KEYS_PER_BATCH). */
export const KEYS_PER_CALL = 1000;
const CALLS_IN_FLIGHT = 2;

export interface BulkCreation {
  readonly keys: number;
  readonly seconds: number;
  /** The first key created, with its secret: the one whose changes are timed. */
  readonly probe: CreatedKey;
}

/** Creates `total` keys of `tier`; `progress` hears the count now and then. */
export async function createKeysInBulk(
  admin: AdminClient,
  tier: string,
  total: number,
  progress: (created: number) => void,
): Promise<BulkCreation> {
  const started = performance.now();
  let next = 0;
  let created = 0;
  let probe: CreatedKey | null = null;
  let lastReport = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      const first = next;
      const count = Math.min(KEYS_PER_CALL, total - first);
      next += count;
      const keys = await admin.createKeys(
        tier,
        Array.from({ length: count }, (_, index) => `bulk ${first + index}`),
      );
      if (first === 0) probe = keys[0] ?? null;
      created += keys.length;
      if (created - lastReport >= 50_000 || created === total) {
        lastReport = created;
        progress(created);
      }
    }
  };
  await Promise.all(Array.from({ length: CALLS_IN_FLIGHT }, () => worker()));
  if (probe === null) throw new AdminApiError('the first batch returned no key', 201);
  return { keys: created, seconds: (performance.now() - started) / 1000, probe };
}
