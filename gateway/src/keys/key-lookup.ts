// Secret → the key record a request runs as: missing from the table, inactive and expired are all
// "no key" (401). The table is read per request, so a swap by the feed applies to the next one.
import type { KeyRecord, KeyTable } from './key-record.js';
import { SecretMemo } from './secret-memo.js';

export class KeyLookup {
  private readonly secrets = new SecretMemo();

  constructor(
    private readonly table: () => KeyTable,
    /** Epoch ms, for expiry. */
    private readonly clock: () => number,
  ) {}

  /** An active, unexpired key for `secret`, or undefined. */
  find(secret: string): KeyRecord | undefined {
    const record = this.secrets.lookup(this.table(), secret);
    if (record === undefined || !record.active) return undefined;
    if (record.expiresAtMs !== null && record.expiresAtMs <= this.clock()) return undefined;
    return record;
  }
}
