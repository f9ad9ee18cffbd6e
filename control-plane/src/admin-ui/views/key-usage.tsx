/** @jsxRuntime automatic */
/** @jsxImportSource preact */
// The key page's live usage: the numbers of GET /v1/keys/{id}/usage. Each limit by its name (the
// name clients see in the rate-limit headers), requests in flight against the concurrency cap, the
// last limiting decision, and refusals per limit from the request log.
import type { Usage } from '../../usage/schema.js';
import { Alert, TableWrap, Time } from './components.js';

function count(value: number): string {
  return value.toLocaleString('en-US');
}

function byStatus(counts: Readonly<Record<string, number>>): string {
  const entries = Object.entries(counts);
  return entries.length === 0 ? '' : ` (${entries.map(([status, number]) => `${number} × ${status}`).join(', ')})`;
}

function LimitsTable({ limits }: { readonly limits: Usage['limits'] }) {
  return (
    <TableWrap label="Usage per limit">
      <table class="data compact">
        <thead>
          <tr>
            <th scope="col">Limit</th>
            <th scope="col" class="num">
              Quota
            </th>
            <th scope="col" class="num">
              Used
            </th>
            <th scope="col" class="num">
              Remaining
            </th>
            <th scope="col" class="num">
              Full again in
            </th>
          </tr>
        </thead>
        <tbody>
          {limits.map((limit) => (
            <tr>
              <td>
                <code>{limit.name}</code>
              </td>
              <td class="num">
                {count(limit.limit)}
                {limit.burst !== undefined && <span class="muted small">{` burst ${count(limit.burst)}`}</span>}
              </td>
              <td class="num">
                <meter min={0} max={limit.burst ?? limit.limit} value={limit.used} aria-hidden="true" /> {count(limit.used)}
              </td>
              <td class="num">{count(limit.remaining)}</td>
              <td class="num">{`${limit.reset_seconds} s`}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}

/**
 * Refusals per limit name over the last hour and day, and the shadow-mode ones apart. Names in the
 * order of the limits table; names of no current limit (`concurrency`, a limit since removed) after.
 */
function RefusalsTable({ totals, limits }: { readonly totals: Usage['totals']; readonly limits: Usage['limits'] }) {
  const refused = new Set([...Object.keys(totals.last_hour.limited_by), ...Object.keys(totals.last_day.limited_by)]);
  const current = limits.map((limit) => limit.name).filter((name) => refused.has(name));
  const names = [...current, ...[...refused].filter((name) => !current.includes(name)).sort()];
  if (names.length === 0 && totals.last_day.shadow_limited === 0) return <p class="muted small">No request was refused in the last day.</p>;
  return (
    <TableWrap label="Refusals per limit">
      <table class="data compact refusals">
        <thead>
          <tr>
            <th scope="col">Refused by</th>
            <th scope="col" class="num">
              Last hour
            </th>
            <th scope="col" class="num">
              Last day
            </th>
          </tr>
        </thead>
        <tbody>
          {names.map((name) => (
            <tr>
              <td>
                <code>{name}</code>
              </td>
              <td class="num">{count(totals.last_hour.limited_by[name] ?? 0)}</td>
              <td class="num">{count(totals.last_day.limited_by[name] ?? 0)}</td>
            </tr>
          ))}
          {totals.last_day.shadow_limited > 0 && (
            <tr class="shadow-row">
              <td>
                shadow <span class="muted small">(would have been refused; forwarded)</span>
              </td>
              <td class="num">{count(totals.last_hour.shadow_limited)}</td>
              <td class="num">{count(totals.last_day.shadow_limited)}</td>
            </tr>
          )}
        </tbody>
      </table>
    </TableWrap>
  );
}

export function KeyUsage({ usage }: { readonly usage: Usage | null }) {
  if (usage === null) {
    return (
      <Alert kind="warning" title="Usage cannot be read right now">
        The limiter store does not answer; gateways decide as their failure mode says.
      </Alert>
    );
  }
  const { concurrency, last_limited: last, totals } = usage;
  return (
    <>
      {usage.limits.length > 0 ? <LimitsTable limits={usage.limits} /> : <p class="muted">No limit applies to this key.</p>}
      <dl class="facts usage-facts">
        <dt>In flight</dt>
        <dd>
          {concurrency === null ? (
            <span class="muted">no concurrency cap</span>
          ) : (
            <>
              <meter min={0} max={concurrency.limit} value={concurrency.in_flight} aria-hidden="true" />{' '}
              {`${count(concurrency.in_flight)} of ${count(concurrency.limit)}`}
            </>
          )}
        </dd>
        <dt>Last limited</dt>
        <dd data-testid="last-limited">
          {last === null ? (
            <span class="muted">not in the last day</span>
          ) : (
            <>
              by <code>{last.limited_by}</code> at <Time value={last.time} />
              {last.shadow && <span class="tag tag-shadow">shadow: forwarded</span>}
            </>
          )}
        </dd>
      </dl>
      <RefusalsTable totals={totals} limits={usage.limits} />
      <p class="muted small usage-totals">
        {`Requests in the last hour: ${totals.last_hour.total}${byStatus(totals.last_hour.by_status)}. `}
        {`Last day: ${totals.last_day.total}${byStatus(totals.last_day.by_status)}.`}
      </p>
    </>
  );
}
