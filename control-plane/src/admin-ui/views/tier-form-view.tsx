/** @jsxRuntime automatic */
/** @jsxImportSource preact */
// /admin/tiers/_new and /admin/tiers/{name}: the tier's form (limits, route limits and policy),
// and on an existing tier the way to delete it.
import { ALGORITHMS } from '../../../../contracts/limits.js';
import type { Tier } from '../../tiers/schema.js';
import { Alert, CsrfField, Field, FormErrors, SelectField, TextField, Time, describedBy, type FieldErrors } from './components.js';
import { Page, type Viewer } from './layout.js';
import { LimitsEditor, type LimitRow, type RouteLimitRow } from './limits-editor.js';
import { MODE_OPTIONS, ModeBadge } from './policy-parts.js';

/** The form as typed: every field is text, so a refused form shows exactly what was sent. */
export interface TierForm {
  readonly name: string;
  readonly description: string;
  readonly algorithm: string;
  readonly mode: string;
  readonly timezone: string;
  readonly concurrency: string;
  readonly limits: readonly LimitRow[];
  readonly routeLimits: readonly RouteLimitRow[];
}

export interface TierFormViewProps {
  readonly viewer: Viewer;
  /** null for a new tier. */
  readonly tier: Tier | null;
  readonly form: TierForm;
  readonly errors: FieldErrors;
  readonly notice: string | null;
  /** Why the tier could not be deleted, when that was just tried. */
  readonly deleteError: string | null;
}

const ALGORITHM_LABELS: Record<string, string> = {
  sliding_window: 'sliding_window (default)',
  sliding_log: 'sliding_log (exact)',
  gcra: 'gcra (smooth rate with a burst)',
};

/** Suggestions for the time zone field: the IANA names this runtime knows. */
const TIME_ZONES = ['UTC', ...Intl.supportedValuesOf('timeZone').filter((zone) => zone !== 'UTC')];

export function TierFormView({ viewer, tier, form, errors, notice, deleteError }: TierFormViewProps) {
  const title = tier ? `Tier ${tier.name}` : 'New tier';
  const action = tier ? `/admin/tiers/${encodeURIComponent(tier.name)}` : '/admin/tiers';
  return (
    <Page title={title} viewer={viewer} section="tiers">
      <nav class="breadcrumbs" aria-label="Breadcrumbs">
        <a href="/admin/tiers">Tiers</a> <span aria-hidden="true">/</span> <span>{tier ? tier.name : 'New'}</span>
      </nav>
      <div class="page-head">
        <h1>{title}</h1>
        {tier && <ModeBadge mode={tier.mode} />}
      </div>
      {notice && <Alert kind="success" title={notice} />}
      {deleteError && <Alert kind="error" title="This tier cannot be deleted">{deleteError}</Alert>}
      {tier && (
        <p class="muted small">
          Created <Time value={tier.created_at} />, updated <Time value={tier.updated_at} />.{' '}
          <a href={`/admin/keys?tier=${encodeURIComponent(tier.name)}`}>Keys of this tier</a>
          {' · '}
          <a href={`/admin/audit-log?resource_type=tier&resource_id=${encodeURIComponent(tier.name)}`}>Changes</a>
        </p>
      )}
      <section class="panel">
        <form method="post" action={action} class="stack" novalidate>
          <CsrfField token={viewer.csrfToken} />
          <FormErrors errors={errors} general={errors.form} />
          <div class="grid-2">
            {tier === null && (
              <TextField
                name="name"
                label="Tier name"
                value={form.name}
                error={errors.name}
                required
                hint="Lower-case letters, digits, - and _; it cannot be changed later."
                idPrefix="tier"
              />
            )}
            <SelectField
              name="algorithm"
              label="Algorithm"
              value={form.algorithm}
              error={errors.algorithm}
              hint="sliding_window: a two-bucket counter in constant memory. sliding_log: exact, memory grows with the limit. gcra: a smooth rate of limit per window, with a burst."
              idPrefix="tier"
              options={ALGORITHMS.map((algorithm) => ({ value: algorithm, label: ALGORITHM_LABELS[algorithm] ?? algorithm }))}
            />
            <SelectField
              name="mode"
              label="Mode"
              value={form.mode}
              error={errors.mode}
              hint="Shadow tries a policy out: nothing is refused, and what would have been shows in the request logs and metrics."
              idPrefix="tier"
              options={MODE_OPTIONS}
            />
            <TextField
              name="timezone"
              label="Time zone"
              value={form.timezone}
              error={errors.timezone}
              hint="IANA name such as UTC or Europe/Paris: day windows reset at its midnight, month windows on the 1st. Empty means UTC."
              placeholder="UTC"
              list="time-zones"
              idPrefix="tier"
            />
            <TextField
              name="concurrency"
              label="Concurrency"
              value={form.concurrency}
              error={errors.concurrency}
              hint="Most requests of one key in flight at once, across all gateways. Empty: no cap."
              inputMode="numeric"
              idPrefix="tier"
            />
            <Field id="tier-description" label="Description" error={errors.description} wide>
              <textarea
                id="tier-description"
                name="description"
                rows={2}
                aria-invalid={errors.description ? 'true' : undefined}
                aria-describedby={describedBy('tier-description', errors.description)}
              >
                {form.description}
              </textarea>
            </Field>
          </div>
          <LimitsEditor
            rows={form.limits}
            errors={errors}
            legend="Limits"
            hint="A request is admitted only when every limit admits it. Windows: 30s, 1m, 1h, 1d… (1s to 31d), or day and month (calendar, in the time zone); one limit per window. Burst: gcra only, how much may go at once (empty: the limit). Empty rows are ignored."
            algorithmSelect="tier-algorithm"
          />
          <LimitsEditor
            kind="route"
            rows={form.routeLimits}
            errors={errors}
            legend="Route limits (optional)"
            hint="Limits of this tier's keys on one route (its name in the routes file, or its prefix), instead of the routes file's limits for that route. Each is named route:window in the rate-limit headers. Empty rows are ignored."
            algorithmSelect="tier-algorithm"
          />
          <datalist id="time-zones">
            {TIME_ZONES.map((zone) => (
              <option value={zone} />
            ))}
          </datalist>
          <div class="form-actions">
            <button type="submit" class="button primary">
              {tier ? 'Save changes' : 'Create tier'}
            </button>
            <a class="button quiet" href="/admin/tiers">
              Cancel
            </a>
          </div>
        </form>
      </section>
      {tier && (
        <section class="panel danger-zone" aria-labelledby="delete-title">
          <h2 id="delete-title">Delete</h2>
          <p>A tier can be deleted only while no key names it (revoked keys included: they keep their tier for the record).</p>
          <p class="actions">
            <a class="button danger" href={`/admin/tiers/${encodeURIComponent(tier.name)}/delete`}>
              Delete tier…
            </a>
          </p>
        </section>
      )}
    </Page>
  );
}
