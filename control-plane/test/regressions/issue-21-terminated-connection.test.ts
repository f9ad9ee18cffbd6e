// Found by the fault suite (test/faults, PostgreSQL restarted under load): after a PostgreSQL
// restart the control plane's request-log writer sometimes waited forever on its next insert, so no
// request-log row arrived again until the control plane itself was restarted. postgres.js may
// never settle a reserve() made while the server was away, and the kysely dialect reserves a
// connection for every query. Here a writer that retries as the log writer does (200 ms, doubling)
// lives through PostgreSQL restarts, and after each one its next insert must land.
import t from 'tap';
import { sql } from 'kysely';
import { startPostgresInstance } from '../../../test-support/postgres-instance.js';
import { createDb, postgresDialect } from '../../src/db.js';

const RESTARTS = 4;
const server = await startPostgresInstance();
const url = await server.createDatabase('terminated');
t.teardown(() => server.remove());
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

t.test(`a retrying writer inserts again after each of ${RESTARTS} PostgreSQL restarts`, async (t) => {
  const db = createDb(postgresDialect(url, { max: 2, connectTimeoutSeconds: 2, reserveTimeoutMs: 3000 }));
  t.teardown(() => db.destroy());
  await sql`create table events (n int)`.execute(db);
  let written = 0;
  let running = true;
  const writer = (async () => {
    let backoffMs = 200;
    while (running) {
      try {
        await sql`insert into events values (${written})`.execute(db);
        written += 1;
        backoffMs = 200;
        await sleep(10);
      } catch {
        await sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, 2000);
      }
    }
  })();
  for (let restart = 1; restart <= RESTARTS; restart += 1) {
    await sleep(300 + Math.random() * 500);
    await server.stop();
    await sleep(1000 + Math.random() * 1000);
    await server.start();
    const before = written;
    const deadline = Date.now() + 20_000;
    while (written === before && Date.now() < deadline) await sleep(50);
    t.ok(written > before, `restart ${restart}: the writer inserts again`);
  }
  running = false;
  await writer;
});
