/** @jsxRuntime automatic */
/** @jsxImportSource preact */
// /admin/gateways: the running gateways as their heartbeats describe them (the same list as
// GET /v1/gateways), how far each is behind the latest change, and a Forget button for stale ones.
import { HEARTBEAT_INTERVAL_MS, STALE_AFTER_MS } from '../../../../contracts/gateway-registry.js';
import type { GatewayItem } from '../../gateways/schema.js';
import { Ago, Alert, Badge, CsrfField, EmptyState, TableWrap, Time } from './components.js';
import { Page, type Viewer } from './layout.js';

export interface GatewaysNotice {
  readonly kind: 'success' | 'error' | 'warning';
  readonly title: string;
  readonly message?: string;
}

export interface GatewaysViewProps {
  readonly viewer: Viewer;
  readonly now: Date;
  /** null: the registry could not be read (Redis away). */
  readonly gateways: readonly GatewayItem[] | null;
  readonly notice: GatewaysNotice | null;
}

const HEARTBEAT_SECONDS = HEARTBEAT_INTERVAL_MS / 1000;
const STALE_SECONDS = STALE_AFTER_MS / 1000;

function plural(count: number, one: string, many: string): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? one : many}`;
}

function secondsText(seconds: number): string {
  if (seconds < 0.1) return '< 0.1 s';
  return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds).toLocaleString('en-US')} s`;
}

/** Changes the gateway had not applied at its last heartbeat, and how long the oldest has waited. */
function Lag({ gateway }: { readonly gateway: GatewayItem }) {
  if (gateway.lag_revisions === 0) return <span class="muted">up to date</span>;
  return (
    <span class="nowrap" title="changes not applied at its last heartbeat · how long the oldest of them has waited">
      {plural(gateway.lag_revisions, 'revision', 'revisions')} · {secondsText(gateway.lag_seconds)}
    </span>
  );
}

function StateBadge({ state }: { readonly state: GatewayItem['state'] }) {
  return state === 'live' ? (
    <Badge kind="ok">live</Badge>
  ) : (
    <Badge kind="bad" title={`No heartbeat for ${STALE_SECONDS} s or more: stopped, cut off from Redis, or hung`}>
      stale
    </Badge>
  );
}

function ForgetButton({ gateway, csrfToken }: { readonly gateway: GatewayItem; readonly csrfToken: string }) {
  return (
    <form method="post" action={`/admin/gateways/${encodeURIComponent(gateway.id)}/forget`} class="actions">
      <CsrfField token={csrfToken} />
      <button type="submit" class="button small" aria-label={`Forget ${gateway.id}`} title="Remove its entry; if it is still running, its next heartbeat adds it again">
        Forget
      </button>
    </form>
  );
}

function GatewayTable({ gateways, now, csrfToken }: { readonly gateways: readonly GatewayItem[]; readonly now: Date; readonly csrfToken: string }) {
  return (
    <TableWrap label="Gateway list">
      <table class="data middle">
        <thead>
          <tr>
            <th scope="col">Gateway</th>
            <th scope="col">Host</th>
            <th scope="col">Version</th>
            <th scope="col" class="num">
              Workers
            </th>
            <th scope="col">Started</th>
            <th scope="col">Last seen</th>
            <th scope="col" class="num">
              Applied revision
            </th>
            <th scope="col">Lag</th>
            <th scope="col">State</th>
            <th scope="col">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {gateways.map((gateway) => (
            <tr class={gateway.state === 'stale' ? 'stale-row' : undefined} data-gateway={gateway.id}>
              <td>
                <code>{gateway.id}</code>
              </td>
              <td class="name-cell">{gateway.host}</td>
              <td>
                <code>{gateway.version}</code>
              </td>
              <td class="num">{gateway.workers.toLocaleString('en-US')}</td>
              <td class="nowrap">
                <Time value={gateway.started_at} />
              </td>
              <td class="nowrap">
                <Ago value={gateway.last_seen_at} now={now} />
              </td>
              <td class="num">{gateway.applied_revision.toLocaleString('en-US')}</td>
              <td>
                <Lag gateway={gateway} />
              </td>
              <td>
                <StateBadge state={gateway.state} />
              </td>
              <td>{gateway.state === 'stale' && <ForgetButton gateway={gateway} csrfToken={csrfToken} />}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}

export function GatewaysView({ viewer, now, gateways, notice }: GatewaysViewProps) {
  const live = gateways?.filter((gateway) => gateway.state === 'live').length ?? 0;
  const stale = (gateways?.length ?? 0) - live;
  return (
    <Page title="Gateways" viewer={viewer} section="gateways">
      <div class="page-head">
        <h1>Gateways</h1>
        {gateways !== null && gateways.length > 0 && (
          <p class="muted" data-testid="fleet-summary">
            {`${live.toLocaleString('en-US')} live · ${stale.toLocaleString('en-US')} stale`}
          </p>
        )}
        <a class="button" href="/admin/gateways">
          Refresh
        </a>
      </div>
      {notice && (
        <Alert kind={notice.kind} title={notice.title}>
          {notice.message}
        </Alert>
      )}
      {gateways === null ? (
        <Alert kind="warning" title="The list of gateways cannot be read right now.">
          The gateways’ heartbeats are kept in Redis, and the control plane cannot reach it. Gateways keep
          enforcing what they know; reload this page once Redis answers again.
        </Alert>
      ) : gateways.length === 0 ? (
        <EmptyState title="No gateway has sent a heartbeat yet.">
          {`Gateways heartbeat every ${HEARTBEAT_SECONDS} s: a gateway that starts shows up here within seconds.`}
        </EmptyState>
      ) : (
        <>
          <GatewayTable gateways={gateways} now={now} csrfToken={viewer.csrfToken} />
          <p class="hint table-note">
            {`Heartbeats every ${HEARTBEAT_SECONDS} s; a gateway not heard from for ${STALE_SECONDS} s is stale and not counted as live. Lag: the configuration changes a gateway had not applied at its last heartbeat, and how long the oldest of them had waited. A gateway that stops removes itself; forget a stale one only once it is gone for good.`}
          </p>
        </>
      )}
    </Page>
  );
}
