// Both services' /metrics pass Prometheus's own linter (`promtool check metrics`) after real
// traffic: names, suffixes, units and help texts as Prometheus expects them.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane, type RunningControlPlane } from '../../control-plane/src/index.js';
import { loadConfig as loadControlPlaneConfig } from '../../control-plane/src/index.js';
import { MemoryStore, loadConfig as loadGatewayConfig, memoryLimiterScripts, startGateway, type RunningGateway } from '../../gateway/src/index.js';
import { startDemoUpstream, type DemoUpstream } from '../../launcher/demo-upstream.js';

const ADMIN_TOKEN = 'metrics-lint-admin-token-0123456789';
let dataDir: string;
let upstream: DemoUpstream;
let controlPlane: RunningControlPlane;
let gateway: RunningGateway;

t.before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tollgate-metrics-lint-'));
  upstream = await startDemoUpstream();
  const store = new MemoryStore();
  controlPlane = await startControlPlane({
    config: loadControlPlaneConfig({ ADMIN_TOKEN, CONTROL_PLANE_PORT: '0', LOG_LEVEL: 'silent' }),
    inProcess: { dataDir, limiter: memoryLimiterScripts(store) },
    host: '127.0.0.1',
  });
  gateway = await startGateway({
    config: loadGatewayConfig({ GATEWAY_UPSTREAM: upstream.url, GATEWAY_PORT: '0', GATEWAY_OPS_PORT: '0', LOG_LEVEL: 'silent' }),
    inProcess: {
      store,
      feed: controlPlane.feed as NonNullable<RunningControlPlane['feed']>,
      deliverRequestEvents: controlPlane.deliverRequestEvents as NonNullable<RunningControlPlane['deliverRequestEvents']>,
    },
    host: '127.0.0.1',
  });
  await gateway.ready;
});

t.teardown(async () => {
  await gateway?.close(1000);
  await controlPlane?.close(1000);
  await upstream?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** promtool's complaints about a /metrics text; empty when it is clean. */
function promtoolProblems(text: string): string {
  const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (run.error) throw new Error(`promtool is needed (Debian package prometheus; .ci/run installs it): ${run.error.message}`);
  return `${run.stdout}${run.stderr}`.trim();
}

async function traffic(): Promise<void> {
  const cp = `http://127.0.0.1:${controlPlane.port}`;
  const auth = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
  await fetch(`${cp}/v1/tiers`, { method: 'POST', headers: auth, body: JSON.stringify({ name: 'lint', limits: [{ window: '1m', limit: 1 }] }) });
  const key = (await (await fetch(`${cp}/v1/keys`, { method: 'POST', headers: auth, body: JSON.stringify({ name: 'lint', tier: 'lint' }) })).json()) as { secret: string };
  const gw = `http://127.0.0.1:${gateway.port}`;
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const res = await fetch(`${gw}/hello`, { headers: { 'x-api-key': key.secret } });
    await res.arrayBuffer();
    if (res.status !== 401) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const variants: Record<string, string>[] = [{ 'x-api-key': key.secret }, {}, { 'x-api-key': 'tg_unknown' }];
  for (const headers of variants) await (await fetch(`${gw}/hello`, { headers })).arrayBuffer();
}

t.test("the gateway's and the control plane's /metrics pass promtool check metrics after traffic", async (t) => {
  await traffic();
  const gatewayMetrics = await (await fetch(`http://127.0.0.1:${gateway.opsPort}/metrics`)).text();
  t.match(gatewayMetrics, /tollgate_gateway_rate_limited_total\{tier="lint",kind="key"\} 1/, 'the traffic is in it');
  t.equal(promtoolProblems(gatewayMetrics), '', 'gateway');
  const controlPlaneMetrics = await (await fetch(`http://127.0.0.1:${controlPlane.port}/metrics`)).text();
  t.match(controlPlaneMetrics, /tollgate_control_plane_http_requests_total\{/);
  t.equal(promtoolProblems(controlPlaneMetrics), '', 'control plane');
});

t.test('process metrics carry each service prefix once', async (t) => {
  const text = await (await fetch(`http://127.0.0.1:${gateway.opsPort}/metrics`)).text();
  t.match(text, /^tollgate_gateway_process_cpu_seconds_total /m);
  t.notMatch(text, /process_process_/);
});
