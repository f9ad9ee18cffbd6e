// Found by the fault suite (test/faults, PostgreSQL restarted under load): after a PostgreSQL
// restart the control plane's request-log writer sometimes waited forever on its next insert, so no
// request-log row arrived again until the control plane itself was restarted. postgres.js may
// never settle a reserve() made while the server was away (the kysely dialect reserves a
// connection for every query), nor, now and then, a query on a connection it handed out just as
// the server went. So a wait for a pool connection, and each of the writer's database calls, have a
// budget; past it they fail and the writer tries again. Both are shown here on a database that is
// simply busy (a lock, a long query), which makes them wait the same way.
import t from 'tap';
import { sql } from 'kysely';
import pino from 'pino';
import postgres from 'postgres';
import { uniquePrefix } from '../../../test-support/redis-server.js';
import { ConnectionWaitError, createDb, postgresDialect } from '../../src/db.js';
import { createLogWriter } from '../../src/log-writer/log-writer.js';
import { addEvents, cleanPrefix, countRows, createMigratedDatabase, makeEvent, redisClient } from '../log-writer/support.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const database = await createMigratedDatabase('pg_restart');
t.teardown(() => database.close());

t.test('a query that waits for a pool connection past its budget is refused', async (t) => {
  const db = createDb(postgresDialect(database.database.url, { max: 1, reserveTimeoutMs: 300 }));
  t.teardown(() => db.destroy());
  const busy = sql`select pg_sleep(2)`.execute(db);
  await sleep(100);
  await t.rejects(sql`select 1`.execute(db), ConnectionWaitError, 'refused while the only connection is busy');
  await busy;
  t.same((await sql<{ one: number }>`select 1 as one`.execute(db)).rows, [{ one: 1 }], 'served once it is free');
});

t.test('an insert that does not settle within its budget is given up and tried again, and its rows arrive', async (t) => {
  const warnings: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
  const redis = redisClient();
  const prefix = uniquePrefix('insert-budget');
  t.teardown(async () => {
    await cleanPrefix(redis, prefix);
    redis.disconnect();
  });
  // Another session holds request_log, so the writer's insert waits as it did on a dead connection.
  const blocker = postgres(database.database.url, { max: 1, onnotice: () => {} });
  t.teardown(() => blocker.end());
  let unlock = (): void => {};
  const locked = new Promise<void>((resolve) => {
    void blocker.begin(async (tx) => {
      await tx`lock table request_log in access exclusive mode`;
      resolve();
      await new Promise<void>((release) => (unlock = release));
    });
  });
  await locked;
  const writer = createLogWriter({
    redis,
    db: database.db,
    prefix,
    logger,
    rowsTotal: { inc: () => {} },
    lagSeconds: { set: () => {} },
    blockMs: 100,
    attemptTimeoutMs: 300,
  });
  await writer.start();
  t.teardown(() => writer.close());
  await addEvents(redis, prefix, Array.from({ length: 5 }, () => makeEvent({ route: 'insert-budget' })));
  const deadline = Date.now() + 10_000;
  while (!warnings.some((line) => line.includes('did not settle within 300 ms')) && Date.now() < deadline) await sleep(50);
  t.ok(warnings.some((line) => line.includes('request log insert did not settle within 300 ms')), 'the hung insert was given up');
  unlock();
  while ((await countRows(database.db, "route = 'insert-budget'")) < 5 && Date.now() < deadline + 10_000) await sleep(50);
  t.equal(await countRows(database.db, "route = 'insert-budget'"), 5, 'a later try wrote every row, once');
});
