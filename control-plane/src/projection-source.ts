// What the change feed rebuilds gateways' projection from: PostgreSQL, the source of truth.
import { revisionOf, type Db } from './db.js';
import { keyRevisionField, type ProjectionSource } from './feed/publisher.js';
import { listTombstones } from './feed/tombstones.js';
import { listLiveKeys, listRevokedKeyRevisions } from './keys/repository.js';
import { toKeyView } from './keys/service.js';
import { listTiers } from './tiers/repository.js';
import { toTier, toTierView } from './tiers/service.js';

/**
 * Keys that are not revoked (inactive ones carry active=false, as published), every tier, and the
 * revisions of what left the projection: revoked keys, key hashes retired by a rotation, deleted
 * tiers. (A change committed while these are read is published after the rebuild read the
 * projection's version, so the rebuild's swap refuses this load and loads again.)
 */
export function createProjectionSource(db: Db): ProjectionSource {
  return {
    async loadAll() {
      const [keys, tiers, revoked, tombstones] = await Promise.all([
        listLiveKeys(db),
        listTiers(db),
        listRevokedKeyRevisions(db),
        listTombstones(db),
      ]);
      return {
        keys: keys.map((row) => ({ hash: row.secret_hash, view: toKeyView(row), revision: revisionOf(row) })),
        tiers: tiers.map((row) => ({ view: toTierView(toTier(row)), revision: revisionOf(row) })),
        retired: [...revoked.map((entry) => ({ field: keyRevisionField(entry.hash), revision: entry.revision })), ...tombstones],
      };
    },
  };
}
