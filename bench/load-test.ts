// `npm run load-test`: the seed's load test. One key, 150 requests at 10 per second against the
// gateway, each status printed as it arrives, then the count of 200, 429 and anything else.
// With API_KEY unset it creates a key through the control plane when CONTROL_PLANE_URL and
// ADMIN_TOKEN are set (tier `load-test`, 100 per minute: expect 100 × 200 and 50 × 429).
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { AdminApiError, AdminClient } from './admin-client.js';
import { positiveInteger } from './config.js';
import { describeError } from './systems.js';

const LOAD_TEST_TIER = 'load-test';
const LOAD_TEST_LIMITS = [{ window: '1m', limit: 100 }];

async function keyFromControlPlane(): Promise<string | null> {
  const controlPlaneUrl = process.env.CONTROL_PLANE_URL;
  const adminToken = process.env.ADMIN_TOKEN;
  if (!controlPlaneUrl || !adminToken) return null;
  const admin = new AdminClient(controlPlaneUrl.replace(/\/$/, ''), adminToken);
  try {
    await admin.createTier(LOAD_TEST_TIER, LOAD_TEST_LIMITS);
    console.log(`created tier ${LOAD_TEST_TIER} (100 requests per minute)`);
  } catch (error) {
    if (!(error instanceof AdminApiError && error.status === 409)) throw error;
    console.log(`using the existing tier ${LOAD_TEST_TIER}`);
  }
  const key = await admin.createKey(`load-test ${new Date().toISOString()}`, LOAD_TEST_TIER);
  console.log(`created key ${key.id} in tier ${LOAD_TEST_TIER}`);
  return key.secret;
}

function explainMissingKey(): void {
  console.error(
    [
      'API_KEY is not set. Either:',
      '  - pass a key: API_KEY=tg_… npm run load-test',
      '    (create one with: curl -s -X POST http://127.0.0.1:8081/v1/keys -H "Authorization: Bearer $ADMIN_TOKEN"',
      '     -H "Content-Type: application/json" -d \'{"name":"load test","tier":"<tier>"}\' — the "secret" field is the key;',
      '     `npm start` also prints a demo key), or',
      '  - let the load test create one: CONTROL_PLANE_URL=http://127.0.0.1:8081 ADMIN_TOKEN=… npm run load-test',
    ].join('\n'),
  );
}

async function main(): Promise<void> {
  const gatewayUrl = new URL(process.env.GATEWAY_URL || 'http://127.0.0.1:8080');
  const path = process.env.LOAD_TEST_PATH || '/';
  const total = positiveInteger(process.env, 'LOAD_TEST_REQUESTS', 150);
  const perSecond = positiveInteger(process.env, 'LOAD_TEST_RATE', 10);
  const apiKey = process.env.API_KEY || (await keyFromControlPlane());
  if (!apiKey) {
    explainMissingKey();
    process.exitCode = 2;
    return;
  }

  console.log(`${total} requests at ${perSecond}/s to ${new URL(path, gatewayUrl).href}`);
  const pool = new Pool(gatewayUrl.origin, { connections: 16 });
  const counts = new Map<string, number>();
  const intervalMs = 1000 / perSecond;
  const started = performance.now();

  const send = async (index: number): Promise<void> => {
    const sentAt = performance.now();
    let label: string;
    let detail = '';
    try {
      const { statusCode, headers, body } = await pool.request({ path, method: 'GET', headers: { 'x-api-key': apiKey } });
      await body.dump();
      label = String(statusCode);
      const remaining = headers['x-ratelimit-remaining'];
      const retryAfter = headers['retry-after'];
      if (remaining !== undefined) detail += ` remaining=${String(remaining)}`;
      if (retryAfter !== undefined) detail += ` retry-after=${String(retryAfter)}`;
    } catch (error) {
      label = `error (${describeError(error)})`;
    }
    counts.set(label, (counts.get(label) ?? 0) + 1);
    const elapsed = ((sentAt - started) / 1000).toFixed(1).padStart(5);
    const took = (performance.now() - sentAt).toFixed(1).padStart(6);
    console.log(`#${String(index + 1).padStart(3)}  t=${elapsed}s  ${label}  ${took} ms${detail}`);
  };

  // Requests leave on a fixed schedule, whether or not earlier ones have answered.
  const inFlight: Promise<void>[] = [];
  for (let index = 0; index < total; index += 1) {
    const due = started + index * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    inFlight.push(send(index));
  }
  await Promise.all(inFlight);
  await pool.close();

  const ok = counts.get('200') ?? 0;
  const limited = counts.get('429') ?? 0;
  const others = [...counts].filter(([label]) => label !== '200' && label !== '429');
  const otherTotal = others.reduce((sum, [, count]) => sum + count, 0);
  console.log(`\n200: ${ok}`);
  console.log(`429: ${limited}`);
  console.log(`other: ${otherTotal}${others.length ? ` (${others.map(([label, count]) => `${label}: ${count}`).join(', ')})` : ''}`);
}

main().catch((error: unknown) => {
  console.error(`load test failed: ${describeError(error)}`);
  process.exitCode = 1;
});
