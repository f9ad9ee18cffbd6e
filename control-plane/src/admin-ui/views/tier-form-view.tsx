/** @jsxRuntime automatic */
/** @jsxImportSource preact */
// /admin/tiers/_new and /admin/tiers/{name}: the tier's form, and on an existing tier the way to
// delete it.
import { ALGORITHMS } from '../../../../contracts/limits.js';
import type { Tier } from '../../tiers/schema.js';
import { Alert, CsrfField, Field, FormErrors, SelectField, TextField, Time, describedBy, type FieldErrors } from './components.js';
import { Page, type Viewer } from './layout.js';
import { LimitsEditor, type LimitRow } from './limits-editor.js';

export interface TierForm {
  readonly name: string;
  readonly description: string;
  readonly algorithm: string;
  readonly limits: readonly LimitRow[];
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
};

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
              hint="sliding_window: a two-bucket counter in constant memory. sliding_log: exact, memory grows with the limit."
              idPrefix="tier"
              options={ALGORITHMS.map((algorithm) => ({ value: algorithm, label: ALGORITHM_LABELS[algorithm] ?? algorithm }))}
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
            hint="A request is admitted only when every limit admits it. Windows: 30s, 1m, 1h, 1d… (1s to 31d, one limit per window). Empty rows are ignored."
          />
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
