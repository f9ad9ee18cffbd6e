// What the change feed rebuilds gateways' projection from: PostgreSQL, the source of truth.
import { revisionOf, type Db } from './db.js';
import type { ProjectionSource } from './feed/publisher.js';
import { listLiveKeys } from './keys/repository.js';
import { toKeyView } from './keys/service.js';
import { listTiers } from './tiers/repository.js';
import { toTier, toTierView } from './tiers/service.js';

/** Keys that are not revoked (inactive ones carry active=false, as published), and every tier. */
export function createProjectionSource(db: Db): ProjectionSource {
  return {
    async loadAll() {
      const [keys, tiers] = await Promise.all([listLiveKeys(db), listTiers(db)]);
      return {
        keys: keys.map((row) => ({ hash: row.secret_hash, view: toKeyView(row), revision: revisionOf(row) })),
        tiers: tiers.map((row) => ({ view: toTierView(toTier(row)), revision: revisionOf(row) })),
      };
    },
  };
}
