/** @jsxRuntime automatic */
/** @jsxImportSource preact */
// /admin/keys/{id}: what the key is, its live usage, the edit form (mode override included),
// rotate and revoke.
import type { ApiKey } from '../../keys/schema.js';
import type { Tier } from '../../tiers/schema.js';
import type { Usage } from '../../usage/schema.js';
import { Alert, CsrfField, Field, FormErrors, SelectField, TextField, Time, describedBy, type FieldErrors } from './components.js';
import { EffectiveLimits, effectiveMode, KeyStatusBadge, keyStatus, NewSecret, type SecretFlash } from './key-parts.js';
import { KeyUsage } from './key-usage.js';
import { Page, type Viewer } from './layout.js';
import { LimitsEditor, type LimitRow } from './limits-editor.js';
import { MODE_OPTIONS, ModeBadge, RouteLimitsList } from './policy-parts.js';

export interface KeyEditForm {
  readonly name: string;
  readonly tier: string;
  readonly active: boolean;
  readonly expires: string;
  /** '' for the tier's mode, else enforce or shadow. */
  readonly mode: string;
  readonly limits: readonly LimitRow[];
}

export interface KeyViewProps {
  readonly viewer: Viewer;
  readonly now: Date;
  readonly apiKey: ApiKey;
  readonly tiers: readonly Tier[];
  /** null: the limiter store could not be read. */
  readonly usage: Usage | null;
  readonly flash: SecretFlash | null;
  readonly notice: string | null;
  readonly form: KeyEditForm;
  readonly errors: FieldErrors;
}

const ACTIVE_HINT = 'An inactive key is refused by gateways until made active again.';

export function KeyView(props: KeyViewProps) {
  const { viewer, apiKey: key, usage, form, errors } = props;
  const status = keyStatus(key, props.now);
  const tier = props.tiers.find((item) => item.name === key.tier);
  const path = `/admin/keys/${encodeURIComponent(key.id)}`;
  return (
    <Page title={key.name} viewer={viewer} section="keys">
      <nav class="breadcrumbs" aria-label="Breadcrumbs">
        <a href="/admin/keys">Keys</a> <span aria-hidden="true">/</span> <span>{key.name}</span>
      </nav>
      <div class="page-head">
        <h1>{key.name}</h1>
        <KeyStatusBadge status={status} />
      </div>
      {props.flash && <NewSecret flash={props.flash} />}
      {props.notice && <Alert kind="success" title={props.notice} />}

      <div class="columns">
        <section class="panel" aria-labelledby="facts-title">
          <h2 id="facts-title">Details</h2>
          <dl class="facts">
            <dt>Id</dt>
            <dd>
              <code>{key.id}</code>
            </dd>
            <dt>Prefix</dt>
            <dd>
              <code>{key.prefix}…</code>
            </dd>
            <dt>Tier</dt>
            <dd>
              <a href={`/admin/tiers/${encodeURIComponent(key.tier)}`}>{key.tier}</a>
            </dd>
            <dt>Limits</dt>
            <dd>
              <EffectiveLimits apiKey={key} tier={tier} />
              {tier?.route_limits && Object.keys(tier.route_limits).length > 0 && <RouteLimitsList routeLimits={tier.route_limits} />}
            </dd>
            <dt>Mode</dt>
            <dd data-testid="key-mode">
              <ModeBadge mode={effectiveMode(key, tier)} />{' '}
              {key.mode === null ? <span class="muted small">from tier</span> : <span class="tag">override</span>}
            </dd>
            <dt>Algorithm</dt>
            <dd>{tier ? <code>{tier.algorithm}</code> : <span class="muted">tier missing</span>}</dd>
            <dt>Concurrency</dt>
            <dd>{tier?.concurrency ? `at most ${tier.concurrency.toLocaleString('en-US')} in flight` : <span class="muted">no cap</span>}</dd>
            <dt>Expires</dt>
            <dd>
              <Time value={key.expires_at} empty="never" />
            </dd>
            <dt>Created</dt>
            <dd>
              <Time value={key.created_at} />
            </dd>
            <dt>Last used</dt>
            <dd>
              <Time value={key.last_used_at} empty="never" />
            </dd>
            {key.revoked_at !== null && (
              <>
                <dt>Revoked</dt>
                <dd>
                  <Time value={key.revoked_at} />
                </dd>
              </>
            )}
          </dl>
          <p class="links">
            <a href={`/admin/request-logs?key_id=${encodeURIComponent(key.id)}`}>Requests of this key</a>
            {' · '}
            <a href={`/admin/audit-log?resource_type=key&resource_id=${encodeURIComponent(key.id)}`}>Changes to this key</a>
          </p>
        </section>

        <section class="panel" aria-labelledby="usage-title">
          <h2 id="usage-title">Live usage</h2>
          {status === 'revoked' ? <p class="muted">A revoked key has no usage: gateways refuse its secret.</p> : <KeyUsage usage={usage} />}
        </section>
      </div>

      {status !== 'revoked' && (
        <>
          <section class="panel" aria-labelledby="edit-title">
            <h2 id="edit-title">Edit</h2>
            <form method="post" action={path} class="stack" novalidate>
              <CsrfField token={viewer.csrfToken} />
              <FormErrors errors={errors} general={errors.form} />
              <div class="grid-2">
                <TextField name="name" label="Name" value={form.name} error={errors.name} required idPrefix="edit" />
                <SelectField
                  name="tier"
                  label="Tier"
                  value={form.tier}
                  error={errors.tier}
                  idPrefix="edit"
                  options={props.tiers.map((item) => ({ value: item.name, label: `${item.name} (${item.algorithm})`, data: { algorithm: item.algorithm } }))}
                />
                <TextField
                  name="expires"
                  label="Expires (UTC)"
                  type="datetime-local"
                  value={form.expires}
                  error={errors.expires_at}
                  hint="Leave empty for a key that never expires."
                  idPrefix="edit"
                />
                <SelectField
                  name="mode"
                  label="Mode"
                  value={form.mode}
                  error={errors.mode}
                  hint="Shadow forwards requests over a limit and only counts them, for this key alone."
                  idPrefix="edit"
                  options={[{ value: '', label: `Inherit from tier (${tier?.mode ?? 'enforce'})` }, ...MODE_OPTIONS]}
                />
                <Field id="edit-active" label="Active" error={errors.active}>
                  <span class="checkbox">
                    <input type="checkbox" id="edit-active" name="active" value="on" checked={form.active} aria-describedby={describedBy('edit-active', errors.active, ACTIVE_HINT)} />
                    <span id="edit-active-hint">{ACTIVE_HINT}</span>
                  </span>
                </Field>
              </div>
              <LimitsEditor
                rows={form.limits}
                errors={errors}
                legend="Limit override"
                hint="Replaces the tier's limits for this key only. Leave every row empty to use the tier's limits. Windows: 30s, 1m, 1h, 1d…, day or month. Burst: only when the tier is gcra."
                algorithmSelect="edit-tier"
              />
              <div class="form-actions">
                <button type="submit" class="button primary">
                  Save changes
                </button>
              </div>
            </form>
          </section>

          <section class="panel danger-zone" aria-labelledby="secret-title">
            <h2 id="secret-title">Secret and revocation</h2>
            <p>Rotating makes a new secret (shown once) and stops the current one at once. Revoking stops the key for good; its record stays.</p>
            <p class="actions">
              <a class="button" href={`${path}/rotate`}>
                Rotate secret…
              </a>
              <a class="button danger" href={`${path}/revoke`}>
                Revoke key…
              </a>
            </p>
          </section>
        </>
      )}
    </Page>
  );
}
