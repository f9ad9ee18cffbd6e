/** @jsxRuntime automatic */
/** @jsxImportSource preact */
// /admin/tiers: every tier with its limits and policy (algorithm, mode, concurrency cap).
import type { Tier } from '../../tiers/schema.js';
import { Alert, EmptyState, LimitsList, TableWrap, Time } from './components.js';
import { Page, type Viewer } from './layout.js';
import { CalendarNote, hasCalendarWindow, ModeBadge, RouteLimitsList } from './policy-parts.js';

export function TiersView({ viewer, tiers, notice }: { readonly viewer: Viewer; readonly tiers: readonly Tier[]; readonly notice: string | null }) {
  return (
    <Page title="Tiers" viewer={viewer} section="tiers">
      <div class="page-head">
        <h1>Tiers</h1>
        <a class="button primary" href="/admin/tiers/_new">
          New tier
        </a>
      </div>
      {notice && <Alert kind="success" title={notice} />}
      {tiers.length === 0 ? (
        <EmptyState title="No tiers yet.">A tier names the limits its keys get. Create one to start issuing keys.</EmptyState>
      ) : (
        <TableWrap label="Tier list">
          <table class="data">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Limits</th>
                <th scope="col">Algorithm</th>
                <th scope="col">Mode</th>
                <th scope="col" class="num">
                  Concurrency
                </th>
                <th scope="col">Description</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {tiers.map((tier) => (
                <tr class={tier.mode === 'shadow' ? 'shadow-row' : undefined}>
                  <td class="name-cell">
                    <a href={`/admin/tiers/${encodeURIComponent(tier.name)}`}>{tier.name}</a>
                  </td>
                  <td>
                    <LimitsList limits={tier.limits} />
                    {hasCalendarWindow(tier.limits, tier.route_limits) && (
                      <>
                        {' '}
                        <CalendarNote timezone={tier.timezone} />
                      </>
                    )}
                    {tier.route_limits && Object.keys(tier.route_limits).length > 0 && <RouteLimitsList routeLimits={tier.route_limits} />}
                  </td>
                  <td>
                    <code>{tier.algorithm}</code>
                  </td>
                  <td>
                    <ModeBadge mode={tier.mode} />
                  </td>
                  <td class="num">{tier.concurrency === null ? <span class="muted">—</span> : tier.concurrency.toLocaleString('en-US')}</td>
                  <td class="description">{tier.description ?? <span class="muted">—</span>}</td>
                  <td class="nowrap">
                    <Time value={tier.updated_at} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
    </Page>
  );
}
