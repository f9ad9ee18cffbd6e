/** @jsxRuntime automatic */
/** @jsxImportSource preact */
// /admin/audit-log: who changed what, with the fields that changed (before → after), policy
// fields (limits with bursts, route limits, mode, time zone, concurrency) included.
import type { Limit } from '../../../../contracts/limits.js';
import type { AuditEntry } from '../../audit/schema.js';
import { EmptyState, FilterGroup, Pagination, TableWrap, Time, limitsText } from './components.js';
import { Page, type Viewer } from './layout.js';

export interface AuditFilters {
  readonly resource_type: string;
  readonly resource_id: string;
}

export function auditHref(filters: Partial<AuditFilters>, cursor?: string): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(filters)) if (value) params.set(name, value);
  if (cursor) params.set('cursor', cursor);
  const query = params.toString();
  return query === '' ? '/admin/audit-log' : `/admin/audit-log?${query}`;
}

/** Fields shown for a created or deleted resource; timestamps and ids are in the row already. */
const SUMMARY_FIELDS = ['name', 'tier', 'limits', 'route_limits', 'algorithm', 'mode', 'timezone', 'concurrency', 'active', 'expires_at', 'prefix', 'description'];

function isLimitList(value: unknown): value is Limit[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'object' && item !== null && 'window' in item && 'limit' in item);
}

/** What null means in these fields: a key's mode and limits are then its tier's. */
const NULL_MEANS: Readonly<Record<string, string>> = {
  mode: 'from tier',
  limits: 'from tier',
  concurrency: 'no cap',
  route_limits: 'none',
  expires_at: 'never',
};

/** A value as a person reads it: limits as `60 / 1m, burst 10`, route limits as `/reports: 10 / 1m`. */
function show(value: unknown, field: string): string {
  if (value === null || value === undefined) return NULL_MEANS[field] ?? '—';
  if (isLimitList(value)) return limitsText(value);
  if (typeof value === 'object' && !Array.isArray(value) && Object.values(value).every(isLimitList)) {
    const routes = Object.entries(value as Record<string, Limit[]>);
    return routes.length === 0 ? 'none' : routes.map(([route, limits]) => `${route}: ${limitsText(limits)}`).join('; ');
  }
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

export function Changes({ entry }: { readonly entry: AuditEntry }) {
  const before = record(entry.before);
  const after = record(entry.after);
  if (entry.before === null || entry.after === null) {
    const shown = entry.before === null ? after : before;
    const fields = SUMMARY_FIELDS.filter((field) => field in shown && shown[field] !== null);
    return (
      <dl class="changes">
        {fields.map((field) => (
          <>
            <dt>{field}</dt>
            <dd>{show(shown[field], field)}</dd>
          </>
        ))}
      </dl>
    );
  }
  const fields = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter(
    (field) => field !== 'updated_at' && JSON.stringify(before[field]) !== JSON.stringify(after[field]),
  );
  if (fields.length === 0) return <span class="muted">no field changed</span>;
  return (
    <dl class="changes">
      {fields.map((field) => (
        <>
          <dt>{field}</dt>
          <dd>
            <del>{show(before[field], field)}</del> <span aria-label="became">→</span> <ins>{show(after[field], field)}</ins>
          </dd>
        </>
      ))}
    </dl>
  );
}

function resourceHref(entry: AuditEntry): string | null {
  if (entry.action.endsWith('.delete')) return null;
  return entry.resource_type === 'key' ? `/admin/keys/${encodeURIComponent(entry.resource_id)}` : `/admin/tiers/${encodeURIComponent(entry.resource_id)}`;
}

/** A key is shown by the name it had after the change (its id below); a tier's id is its name. */
function Resource({ entry }: { readonly entry: AuditEntry }) {
  const href = resourceHref(entry);
  const name = entry.resource_type === 'key' ? (record(entry.after).name ?? record(entry.before).name) : undefined;
  const text = typeof name === 'string' ? name : entry.resource_id;
  return (
    <>
      <span class="muted">{entry.resource_type}</span> {href ? <a href={href}>{text}</a> : <span>{text}</span>}
      {text !== entry.resource_id && (
        <div>
          <code class="muted small">{entry.resource_id}</code>
        </div>
      )}
    </>
  );
}

export interface AuditViewProps {
  readonly viewer: Viewer;
  readonly filters: AuditFilters;
  readonly entries: readonly AuditEntry[];
  readonly nextCursor: string | null;
  readonly cursor: string | null;
}

export function AuditView({ viewer, filters, entries, nextCursor, cursor }: AuditViewProps) {
  const types = [
    { label: 'All', value: '' },
    { label: 'Keys', value: 'key' },
    { label: 'Tiers', value: 'tier' },
  ];
  return (
    <Page title="Audit log" viewer={viewer} section="audit-log">
      <div class="page-head">
        <h1>Audit log</h1>
      </div>
      <div class="toolbar">
        <FilterGroup
          title="By resource"
          options={types.map((type) => ({ label: type.label, href: auditHref({ resource_type: type.value }), current: filters.resource_type === type.value && !filters.resource_id }))}
        />
        {filters.resource_id && (
          <p class="filter-note">
            Showing changes to <code>{filters.resource_id}</code> · <a href="/admin/audit-log">show all</a>
          </p>
        )}
      </div>
      {entries.length === 0 ? (
        <EmptyState title="No changes recorded yet.">Every change to a tier or a key, from the API or this UI, is listed here.</EmptyState>
      ) : (
        <TableWrap label="Changes">
          <table class="data audit">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">Action</th>
                <th scope="col">Resource</th>
                <th scope="col">Change</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((entry) => (
                  <tr>
                    <td class="nowrap">
                      <Time value={entry.at} />
                    </td>
                    <td>{entry.actor}</td>
                    <td>
                      <code>{entry.action}</code>
                    </td>
                    <td class="name-cell">
                      <Resource entry={entry} />
                    </td>
                    <td>
                      <Changes entry={entry} />
                    </td>
                  </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
      <Pagination firstHref={cursor ? auditHref(filters) : null} nextHref={nextCursor ? auditHref(filters, nextCursor) : null} />
    </Page>
  );
}
