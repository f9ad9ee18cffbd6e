// Secrets seen recently → their key record, for one key table: a client that comes back skips the
// SHA-256 and the table lookup (about 1.5% of the admitted path's CPU). The key table
// itself stays indexed by hash only (keys are stored hashed); this memo lives in process memory,
// where every request's secret passes anyway, and is never logged or exported.
// - Only secrets that found a record are kept: unknown ones would let any client fill it.
// - A new table (the feed applied a change) starts a new memo, so a revoked or changed key is never
//   answered from an old one. Activity and expiry are checked by the caller on every request.
// - The memo remembers the table's generation, not the table: holding an old table would keep the
//   records of every change since alive (cache.ts) for as long as no request comes.
// - At most `capacity` secrets; when full it starts over.
import type { KeyRecord, KeyTable } from './key-record.js';

export class SecretMemo {
  private generation = -1;
  private readonly records = new Map<string, KeyRecord>();

  constructor(private readonly capacity = 10_000) {}

  /** The table's record for `secret`, or undefined (unknown key). */
  lookup(table: KeyTable, secret: string): KeyRecord | undefined {
    if (table.generation !== this.generation) {
      this.generation = table.generation;
      this.records.clear();
    }
    const known = this.records.get(secret);
    if (known !== undefined) return known;
    const record = table.forSecret(secret);
    if (record !== undefined) {
      if (this.records.size >= this.capacity) this.records.clear();
      this.records.set(secret, record);
    }
    return record;
  }

  get size(): number {
    return this.records.size;
  }
}
