// The soak (`npm run soak`, not part of CI): a steady rate through two gateways with request logging
// on for SOAK_SECONDS (default 600). Every request answered 200, no client error, every answered
// request exactly one request-log row, and the RSS of each process flat: sampled every SOAK_SAMPLE
// seconds, the last quarter's mean at most 15 % (or 24 MB, whichever is more) above the second quarter's.
import t from 'tap';
import { createTestDatabase } from '../../test-support/postgres-database.js';
import { startRedisServer } from '../../test-support/redis-server.js';
import { settledLedger } from '../faults/helpers/ledger.js';
import { ROWS_DEADLINE_MS } from '../faults/helpers/phase.js';
import { startStack } from '../faults/helpers/stack.js';
import { startSteadyLoad } from '../faults/helpers/steady-load.js';
import { startFaultyUpstream } from '../faults/helpers/upstream.js';
import { COMPOSE_REDIS_ARGS } from '../faults/helpers/fault-setup.js';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 600);
const RATE_PER_GATEWAY = Number(process.env.SOAK_RATE ?? 100);
const SAMPLE_SECONDS = Number(process.env.SOAK_SAMPLE ?? Math.max(5, Math.round(SECONDS / 20)));
const megabytes = (bytes: number) => Math.round(bytes / 1048576);
const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);

const redis = await startRedisServer(COMPOSE_REDIS_ARGS);
const database = await createTestDatabase('soak');
const upstream = await startFaultyUpstream();
const stack = await startStack({ redis, databaseUrl: database.url, routes: { '/a': upstream.url } });
t.teardown(async () => {
  await stack.close();
  await redis.stop();
  await upstream.stop();
  await database.drop();
});

t.test(`${SECONDS} s at ${RATE_PER_GATEWAY * 2} requests a second through two gateways`, async (t) => {
  const key = await stack.createKey('soak', 1_000_000_000);
  const services = [stack.controlPlane, ...stack.gateways.map((gateway) => gateway.service)];
  const samples: number[][] = services.map(() => []);
  const startedMs = Date.now();
  const load = startSteadyLoad({
    gateways: stack.gateways.map((gateway) => gateway.url),
    keys: [{ label: 'open', secret: key.secret, weight: 1 }],
    paths: ['/a/x'],
    ratePerGateway: RATE_PER_GATEWAY,
    timeoutSeconds: 10,
  });
  const sampler = setInterval(() => services.forEach((service, index) => samples[index]?.push(service.rssBytes())), SAMPLE_SECONDS * 1000);
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
  clearInterval(sampler);
  await load.stop();
  const { ledger, waitedMs } = await settledLedger(load.answers, () => stack.rowsByAddress(startedMs), ROWS_DEADLINE_MS);

  const statuses = load.answers.reduce<Record<string, number>>((counts, answer) => ({ ...counts, [answer.status]: (counts[answer.status] ?? 0) + 1 }), {});
  const latencies = load.answers.map((answer) => answer.answeredMs - answer.sentMs).sort((a, b) => a - b);
  const quantile = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0);
  t.comment(`soak: ${SECONDS} s, ${load.answers.length} answered (${Math.round(load.answers.length / SECONDS)}/s), status codes ${JSON.stringify(statuses)}, client errors ${load.errors.length}`);
  t.comment(`  latency p50 ${quantile(0.5)} ms, p99 ${quantile(0.99)} ms, max ${quantile(1)} ms`);
  t.comment(`  request log: ${ledger.rows} rows, lost ${ledger.lost}, doubled ${ledger.doubled}, rows of unanswered requests ${ledger.rowsWithoutAnswer}, complete ${(waitedMs / 1000).toFixed(2)} s after the load stopped`);
  const flat = services.map((service, index) => {
    const series = samples[index] ?? [];
    const quarter = Math.max(1, Math.floor(series.length / 4));
    const second = mean(series.slice(quarter, 2 * quarter));
    const last = mean(series.slice(-quarter));
    t.comment(`  RSS ${service.name}: start ${megabytes(series[0] ?? 0)} MB, end ${megabytes(series[series.length - 1] ?? 0)} MB; every ${SAMPLE_SECONDS} s: ${series.map(megabytes).join(' ')}`);
    return { name: service.name, second, last };
  });

  t.test('every request is answered 200, without client errors', async (t) => {
    t.same(Object.keys(statuses), ['200']);
    t.same(load.errors.slice(0, 5), [], `${load.errors.length} client errors`);
  });
  t.test('every answered request has exactly one request-log row', async (t) => {
    t.equal(ledger.lost, 0, 'lost');
    t.equal(ledger.doubled, 0, 'doubled');
    t.equal(ledger.rows, ledger.answered + ledger.rowsWithoutAnswer, 'rows = requests');
  });
  t.test('the RSS of every process stays flat', async (t) => {
    for (const { name, second, last } of flat) {
      t.ok(last <= Math.max(second * 1.15, second + 24 * 1048576), `${name}: ${megabytes(second)} MB in the second quarter, ${megabytes(last)} MB in the last`);
    }
  });
  t.test('no process crashes', async (t) => {
    t.same(stack.crashes, []);
  });
});
