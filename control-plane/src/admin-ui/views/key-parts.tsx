/** @jsxRuntime automatic */
/** @jsxImportSource preact */
// Pieces the key list and the key page share: the status badge, the effective limits and mode,
// the secret shown once.
import type { ApiKey } from '../../keys/schema.js';
import type { Tier } from '../../tiers/schema.js';
import type { Mode } from '../../../../contracts/limits.js';
import { Badge, LimitsList } from './components.js';

export type KeyStatus = 'active' | 'inactive' | 'expired' | 'revoked';

export function keyStatus(key: ApiKey, now: Date): KeyStatus {
  if (key.revoked_at !== null) return 'revoked';
  if (!key.active) return 'inactive';
  if (key.expires_at !== null && new Date(key.expires_at).getTime() <= now.getTime()) return 'expired';
  return 'active';
}

const STATUS_BADGES = { active: 'ok', inactive: 'off', expired: 'warn', revoked: 'bad' } as const;

export function KeyStatusBadge({ status }: { readonly status: KeyStatus }) {
  return <Badge kind={STATUS_BADGES[status]}>{status}</Badge>;
}

/** The key's own limits, or its tier's marked as such. */
export function EffectiveLimits({ apiKey, tier }: { readonly apiKey: ApiKey; readonly tier: Tier | undefined }) {
  if (apiKey.limits !== null) {
    return (
      <span>
        <LimitsList limits={apiKey.limits} /> <span class="tag">override</span>
      </span>
    );
  }
  if (tier === undefined) return <span class="muted">tier missing</span>;
  return (
    <span>
      <LimitsList limits={tier.limits} /> <span class="muted small">from tier</span>
    </span>
  );
}

/** The mode that applies to the key: its own, else its tier's. */
export function effectiveMode(apiKey: ApiKey, tier: Tier | undefined): Mode {
  return apiKey.mode ?? tier?.mode ?? 'enforce';
}

/** What a key's secret flash carries from the POST to the page after the redirect. */
export interface SecretFlash {
  readonly action: 'created' | 'rotated';
  readonly keyId: string;
  readonly keyName: string;
  readonly secret: string;
}

/** The secret, once: selectable text, and a copy button that the page's script reveals. */
export function NewSecret({ flash }: { readonly flash: SecretFlash }) {
  return (
    <section class="secret-box" aria-labelledby="new-secret-title">
      <h2 id="new-secret-title">
        {flash.action === 'created' ? `Key “${flash.keyName}” created` : `New secret for “${flash.keyName}”`}
      </h2>
      <p>
        Copy the secret now: it is stored only as a hash and <strong>will not be shown again</strong>.
        {flash.action === 'rotated' && ' The previous secret has stopped working.'}
      </p>
      <div class="secret-row">
        <code class="secret" data-testid="new-secret" id="new-secret">
          {flash.secret}
        </code>
        <button type="button" class="button small" data-copy="new-secret" hidden>
          Copy
        </button>
      </div>
    </section>
  );
}
