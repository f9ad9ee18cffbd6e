/** @jsxRuntime automatic */
/** @jsxImportSource preact */
// /admin/keys: the secret of a key just created, the new-key form, filters, the list.
import { MODES, type Mode } from '../../../../contracts/limits.js';
import type { ApiKey } from '../../keys/schema.js';
import type { Tier } from '../../tiers/schema.js';
import {
  CsrfField,
  EmptyState,
  FilterGroup,
  FormErrors,
  Pagination,
  SelectField,
  TableWrap,
  TextField,
  Time,
  type FieldErrors,
  type SelectOption,
} from './components.js';
import { EffectiveLimits, effectiveMode, KeyStatusBadge, keyStatus, NewSecret, type SecretFlash } from './key-parts.js';
import { Page, type Viewer } from './layout.js';
import { ModeBadge } from './policy-parts.js';

export interface KeyFilters {
  readonly tier?: string | undefined;
  readonly active?: 'true' | 'false' | undefined;
  readonly q?: string | undefined;
  readonly cursor?: string | undefined;
}

export interface KeysViewProps {
  readonly viewer: Viewer;
  readonly now: Date;
  readonly tiers: readonly Tier[];
  readonly keys: readonly ApiKey[];
  readonly nextCursor: string | null;
  readonly filters: KeyFilters;
  readonly flash: SecretFlash | null;
  readonly form: NewKeyForm;
  readonly errors: FieldErrors;
}

/** The new-key form as typed; `mode` '' inherits the tier's. */
export interface NewKeyForm {
  readonly name: string;
  readonly tier: string;
  readonly mode: string;
  readonly expires: string;
}

/** Short enough for the one-line form; the key's page words them in full. */
const NEW_KEY_MODE_LABELS: Record<Mode, string> = { enforce: 'Enforce', shadow: 'Shadow: count, never refuse' };
const NEW_KEY_MODE_OPTIONS: readonly SelectOption[] = [
  { value: '', label: 'Inherit from tier' },
  ...MODES.map((mode) => ({ value: mode, label: NEW_KEY_MODE_LABELS[mode] })),
];

export function keysHref(filters: KeyFilters): string {
  const params = new URLSearchParams();
  if (filters.q) params.set('q', filters.q);
  if (filters.tier) params.set('tier', filters.tier);
  if (filters.active) params.set('active', filters.active);
  if (filters.cursor) params.set('cursor', filters.cursor);
  const query = params.toString();
  return query === '' ? '/admin/keys' : `/admin/keys?${query}`;
}

export function KeysView(props: KeysViewProps) {
  const { viewer, tiers, keys, filters, errors, form } = props;
  const tiersByName = new Map(tiers.map((tier) => [tier.name, tier]));
  const base = { q: filters.q, tier: filters.tier, active: filters.active };
  const filtered = Boolean(filters.q || filters.tier || filters.active);
  return (
    <Page title="Keys" viewer={viewer} section="keys">
      <div class="page-head">
        <h1>API keys</h1>
      </div>
      {props.flash && <NewSecret flash={props.flash} />}

      <section class="panel" aria-labelledby="create-key-title">
        <h2 id="create-key-title">Create a key</h2>
        {tiers.length === 0 ? (
          <p>
            A key needs a tier. <a href="/admin/tiers/_new">Create a tier</a> first.
          </p>
        ) : (
          <form method="post" action="/admin/keys" class="inline-form" novalidate>
            <CsrfField token={viewer.csrfToken} />
            <FormErrors errors={errors} general={errors.form} />
            <TextField name="name" label="Name" value={form.name} error={errors.name} required idPrefix="new-key" />
            <SelectField
              name="tier"
              label="Tier"
              value={form.tier}
              error={errors.tier}
              required
              idPrefix="new-key"
              options={tiers.map((tier) => ({ value: tier.name, label: tier.name }))}
            />
            <SelectField
              name="mode"
              label="Mode"
              value={form.mode}
              error={errors.mode}
              idPrefix="new-key"
              options={NEW_KEY_MODE_OPTIONS}
            />
            <TextField name="expires" label="Expires (UTC, optional)" type="datetime-local" value={form.expires} error={errors.expires_at} idPrefix="new-key" />
            <div class="form-actions">
              <button type="submit" class="button primary">
                Create key
              </button>
            </div>
          </form>
        )}
      </section>

      <section class="list-section" aria-labelledby="key-list-title">
        <h2 id="key-list-title" class="visually-hidden">
          Keys
        </h2>
        <div class="toolbar">
          <form method="get" action="/admin/keys" class="search" role="search">
            {filters.tier && <input type="hidden" name="tier" value={filters.tier} />}
            {filters.active && <input type="hidden" name="active" value={filters.active} />}
            <label for="key-search">Search</label>
            <input id="key-search" name="q" type="search" value={filters.q ?? ''} placeholder="name or prefix (tg_…)" />
            <button type="submit" class="button small">
              Search
            </button>
          </form>
          <div class="filters">
            <FilterGroup
              title="By tier"
              options={[
                { label: 'All', href: keysHref({ ...base, tier: undefined }), current: !filters.tier },
                ...tiers.map((tier) => ({ label: tier.name, href: keysHref({ ...base, tier: tier.name }), current: filters.tier === tier.name })),
              ]}
            />
            <FilterGroup
              title="By status"
              options={[
                { label: 'All', href: keysHref({ ...base, active: undefined }), current: !filters.active },
                { label: 'Active', href: keysHref({ ...base, active: 'true' }), current: filters.active === 'true' },
                { label: 'Inactive', href: keysHref({ ...base, active: 'false' }), current: filters.active === 'false' },
              ]}
            />
          </div>
        </div>

        {keys.length === 0 ? (
          filtered || filters.cursor ? (
            <EmptyState title="No keys match these filters.">
              <a href="/admin/keys">Show all keys</a>
            </EmptyState>
          ) : (
            <EmptyState title="No keys yet.">Create the first one with the form above; its secret is shown once.</EmptyState>
          )
        ) : (
          <TableWrap label="Key list">
            <table class="data">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Prefix</th>
                  <th scope="col">Tier</th>
                  <th scope="col">Limits</th>
                  <th scope="col">Active</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                </tr>
              </thead>
              <tbody>
                {keys.map((key) => (
                  <tr>
                    <td class="name-cell">
                      <a href={`/admin/keys/${encodeURIComponent(key.id)}`}>{key.name}</a>
                    </td>
                    <td>
                      <code>{key.prefix}…</code>
                    </td>
                    <td>
                      <a href={keysHref({ ...base, tier: key.tier })}>{key.tier}</a>
                    </td>
                    <td>
                      <EffectiveLimits key={key.id} apiKey={key} tier={tiersByName.get(key.tier)} />
                      {effectiveMode(key, tiersByName.get(key.tier)) === 'shadow' && (
                        <>
                          {' '}
                          <ModeBadge mode="shadow" />
                        </>
                      )}
                    </td>
                    <td>
                      <KeyStatusBadge status={keyStatus(key, props.now)} />
                    </td>
                    <td class="nowrap">
                      <Time value={key.created_at} />
                    </td>
                    <td class="nowrap">
                      <Time value={key.last_used_at} empty="never" />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        )}
        <Pagination
          firstHref={filters.cursor ? keysHref(base) : null}
          nextHref={props.nextCursor ? keysHref({ ...base, cursor: props.nextCursor }) : null}
        />
      </section>
    </Page>
  );
}
