// Tier and key views as the control plane publishes them, for tests: the fields a test names, and
// the control plane's defaults for the rest.
import type { KeyView, TierView } from '../contracts/feed.js';

export function tierView(fields: Pick<TierView, 'name' | 'limits'> & Partial<TierView>): TierView {
  return { algorithm: 'sliding_window', timezone: 'UTC', mode: 'enforce', concurrency: null, route_limits: null, ...fields };
}

export function keyView(fields: Pick<KeyView, 'id' | 'tier'> & Partial<KeyView>): KeyView {
  return { limits: null, active: true, expires_at: null, mode: null, ...fields };
}
