// Key tables for tests, built with the gateway's own builder (keys/cache.ts) from views like the
// control plane publishes, so no production logic is copied here.
import { randomBytes } from 'node:crypto';
import type { KeyView, TierView } from '../../../contracts/feed.js';
import type { Limit } from '../../../contracts/limits.js';
import { buildKeyTable, type BuiltKeyTable } from '../../src/keys/cache.js';
import { hashApiKey } from '../../src/keys/secret-hash.js';

export interface TestKey {
  readonly secret: string;
  readonly id: string;
  readonly tier: string;
}

export interface TestKeySpec {
  readonly tier?: string;
  readonly limits?: Limit[] | null;
  readonly active?: boolean;
  readonly expiresAt?: string | null;
  readonly mode?: KeyView['mode'];
}

/** A tier's fields past name, limits and algorithm; absent ones take the control plane's defaults. */
export type TierOptions = Partial<Pick<TierView, 'timezone' | 'mode' | 'concurrency' | 'route_limits'>>;

export class TestKeys {
  private readonly keys = new Map<string, KeyView>();
  private readonly tiers = new Map<string, TierView>();
  private counter = 0;

  tier(name: string, limits: Limit[], algorithm: TierView['algorithm'] = 'sliding_window', options: TierOptions = {}): this {
    this.tiers.set(name, { name, limits, algorithm, timezone: 'UTC', mode: 'enforce', concurrency: null, route_limits: null, ...options });
    return this;
  }

  key(spec: TestKeySpec = {}): TestKey {
    this.counter += 1;
    const secret = `tg_${randomBytes(24).toString('base64url').replace(/[-_]/g, 'x')}`;
    const id = `key_test${this.counter}_${randomBytes(4).toString('hex')}`;
    const tier = spec.tier ?? 'basic';
    this.keys.set(hashApiKey(secret), {
      id,
      tier,
      limits: spec.limits ?? null,
      active: spec.active ?? true,
      expires_at: spec.expiresAt ?? null,
      mode: spec.mode ?? null,
    });
    return { secret, id, tier };
  }

  table(version = 1): BuiltKeyTable {
    return buildKeyTable({ keys: new Map(this.keys), tiers: new Map(this.tiers), version, epoch: 'test' });
  }
}
