// The demo tier and key of `npm start`, made through the control plane's REST API, so both modes
// (one process or several) create them the same way and every rule of the REST API (audit row, feed
// publish) applies.
//
// The tier is created on the first run only: an operator's later edits to it are kept. The key's
// secret exists only as a hash once created, so the launcher cannot show it again; instead it
// rotates the demo key at every start and prints the new secret. That keeps the promise
// (no secret at rest in plain text) at the price of the demo key's old secret stopping at each
// restart; keys created through the API are never touched.
import type { Limit } from '../contracts/limits.js';

export const DEMO_TIER = 'demo';
export const DEMO_KEY_NAME = 'demo';
export const DEMO_LIMITS: readonly Limit[] = [
  { window: '1m', limit: 5 },
  { window: '1h', limit: 100 },
];

export interface DemoSetup {
  readonly tier: { readonly name: string; readonly limits: readonly Limit[]; readonly created: boolean };
  readonly key: { readonly id: string; readonly secret: string; readonly created: boolean };
}

export class DemoSetupError extends Error {
  readonly code = 'demo_setup_failed';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DemoSetupError';
  }
}

interface KeyItem {
  readonly id: string;
  readonly name: string;
  readonly active: boolean;
  readonly expires_at: string | null;
  readonly revoked_at: string | null;
  readonly created_at: string;
}

interface Reply {
  readonly status: number;
  readonly body: unknown;
}

export async function setUpDemo(controlPlaneUrl: string, adminToken: string, now: () => number = Date.now): Promise<DemoSetup> {
  const call = async (method: string, path: string, body?: unknown): Promise<Reply> => {
    const response = await fetch(controlPlaneUrl + path, {
      method,
      headers: {
        authorization: `Bearer ${adminToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? null : (JSON.parse(text) as unknown) };
  };
  const expect = (reply: Reply, status: number, what: string): Record<string, unknown> => {
    if (reply.status !== status) {
      const detail = (reply.body as { detail?: string } | null)?.detail ?? '';
      throw new DemoSetupError(`cannot ${what}: the control plane answered ${reply.status} ${detail}`.trim());
    }
    return reply.body as Record<string, unknown>;
  };

  const tier = await ensureTier(call, expect);
  const key = await freshDemoKey(call, expect, now);
  return { tier, key };
}

type Call = (method: string, path: string, body?: unknown) => Promise<Reply>;
type Expect = (reply: Reply, status: number, what: string) => Record<string, unknown>;

async function ensureTier(call: Call, expect: Expect): Promise<DemoSetup['tier']> {
  const existing = await call('GET', `/v1/tiers/${DEMO_TIER}`);
  if (existing.status === 200) {
    const body = existing.body as { limits: Limit[] };
    return { name: DEMO_TIER, limits: body.limits, created: false };
  }
  expect(existing, 404, 'read the demo tier');
  const created = await call('POST', '/v1/tiers', {
    name: DEMO_TIER,
    description: 'made by npm start for trying the gateway; edit or delete it freely',
    limits: DEMO_LIMITS,
  });
  // 409: another launcher made it in between; either way it exists now.
  if (created.status === 409) return ensureTier(call, expect);
  const body = expect(created, 201, 'create the demo tier') as { limits: Limit[] };
  return { name: DEMO_TIER, limits: body.limits, created: true };
}

/** Rotates the newest usable demo key, or creates one when there is none. */
async function freshDemoKey(call: Call, expect: Expect, now: () => number): Promise<DemoSetup['key']> {
  const list = expect(
    await call('GET', `/v1/keys?q=${DEMO_KEY_NAME}&active=true&limit=500`),
    200,
    'list the demo keys',
  ) as { items: KeyItem[] };
  const usable = list.items
    .filter(
      (item) =>
        item.name === DEMO_KEY_NAME &&
        item.active &&
        item.revoked_at === null &&
        (item.expires_at === null || Date.parse(item.expires_at) > now()),
    )
    .sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at));
  const newest = usable[0];
  if (newest) {
    const rotated = await call('POST', `/v1/keys/${newest.id}/rotate`);
    // Revoked between the list and the rotate: make a new one instead.
    if (rotated.status !== 404 && rotated.status !== 409) {
      const body = expect(rotated, 200, 'rotate the demo key') as { id: string; secret: string };
      return { id: body.id, secret: body.secret, created: false };
    }
  }
  const created = expect(
    await call('POST', '/v1/keys', { name: DEMO_KEY_NAME, tier: DEMO_TIER }),
    201,
    'create the demo key',
  ) as { id: string; secret: string };
  return { id: created.id, secret: created.secret, created: true };
}

/**
 * Resolves once the gateway admits the demo key (its quota answers 200; that consumes nothing), so
 * the printed curl lines work when pasted at once. False when `deadlineMs` passes first.
 */
export async function waitUntilGatewayKnows(gatewayUrl: string, secret: string, deadlineMs: number): Promise<boolean> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${gatewayUrl}/_gateway/quota`, {
        headers: { 'x-api-key': secret },
        signal: AbortSignal.timeout(1000),
      });
      await response.arrayBuffer();
      if (response.status === 200) return true;
    } catch {
      // not answering yet
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return false;
}
