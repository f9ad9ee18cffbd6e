// After create and rotate, no response, log line or stored value contains a secret.
import { sql } from 'kysely';
import t from 'tap';
import { startTestApp, uniqueName } from './helpers/test-app.js';

const ctx = await startTestApp('secrets');
t.teardown(() => ctx.close());

t.test('no log line, database value or later response contains a secret', async (t) => {
  const tier = uniqueName('secretive');
  await ctx.call('POST', '/v1/tiers', { name: tier, limits: [{ window: '1m', limit: 5 }] });
  const created = await ctx.call('POST', '/v1/keys', { name: 'holder', tier });
  const first: string = created.body.secret;
  const rotated = await ctx.call('POST', `/v1/keys/${created.body.id}/rotate`);
  const second: string = rotated.body.secret;
  t.match(first, /^tg_/);
  t.match(second, /^tg_/);

  // Clients that mistake the admin API for the gateway send their secret here; it must not leak.
  const misdirected = await ctx.call('GET', '/v1/tiers', undefined, { authorization: `Bearer ${second}`, 'x-api-key': first });
  t.equal(misdirected.status, 401);

  const later = [
    await ctx.call('PATCH', `/v1/keys/${created.body.id}`, { name: 'renamed' }),
    await ctx.call('GET', `/v1/keys/${created.body.id}`),
    await ctx.call('GET', '/v1/keys?limit=500'),
    await ctx.call('GET', `/v1/keys?q=${encodeURIComponent(second.slice(0, 8))}`),
    await ctx.call('GET', '/v1/audit-log?limit=500'),
    await ctx.call('GET', '/metrics'),
    await ctx.call('GET', '/openapi.json'),
    await ctx.call('DELETE', `/v1/keys/${created.body.id}`),
    await ctx.call('GET', `/v1/keys/${created.body.id}`),
    misdirected,
  ];
  for (const response of later) {
    t.notOk(response.text.includes(first) || response.text.includes(second), `response ${response.status}`);
  }

  const logText = ctx.logs.lines.join('\n');
  t.ok(ctx.logs.lines.length > 5, 'the app did log');
  t.notOk(logText.includes(first), 'logs never hold the first secret');
  t.notOk(logText.includes(second), 'logs never hold the rotated secret');

  const tables = await sql<{ table_name: string }>`
    select table_name from information_schema.tables
    where table_schema = 'public' and table_type = 'BASE TABLE'`.execute(ctx.db);
  t.ok(tables.rows.some((row) => row.table_name === 'api_keys'));
  for (const { table_name } of tables.rows) {
    // A row cast to text shows every column.
    const rows = await sql<{ row: string }>`select t::text as row from ${sql.table(table_name)} t`.execute(ctx.db);
    const text = rows.rows.map((row) => row.row).join('\n');
    t.notOk(text.includes(first) || text.includes(second), `table ${table_name} holds no secret`);
    // The random part alone must not be there either (e.g. stored without its tg_ prefix).
    t.notOk(text.includes(first.slice(3)) || text.includes(second.slice(3)), `table ${table_name} holds no secret body`);
  }
});
