import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { requestEventStream } from '../../../contracts/redis-keys.js';
import { uniquePrefix } from '../../../test-support/redis-server.js';
import { LOG_WRITER_GROUP } from '../../src/log-writer/log-writer.js';
import {
  addEvents,
  cleanPrefix,
  countRows,
  createMigratedDatabase,
  makeEvent,
  REDIS_URL,
  redisClient,
  waitFor,
} from './support.js';

const database = await createMigratedDatabase('crash_recovery');
const redis = redisClient();
t.teardown(async () => {
  redis.disconnect();
  await database.close();
});

const entry = fileURLToPath(new URL('./writer-process.ts', import.meta.url));

async function spawnWriter(prefix: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    env: { ...process.env, REDIS_URL, DATABASE_URL: database.database.url, PREFIX: prefix, CLAIM_MIN_IDLE_MS: '1000' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [chunk] = (await once(child.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
  if (!chunk.toString().includes('ready')) throw new Error('writer did not start');
  return child;
}

t.test('a writer killed with SIGKILL mid-stream loses and doubles no row once another runs', async (t) => {
  const prefix = uniquePrefix('lw-crash');
  t.teardown(() => cleanPrefix(redis, prefix));
  const route = 'crash';
  const stream = requestEventStream(prefix);
  const events = Array.from({ length: 100 }, () => makeEvent({ route }));

  const first = await spawnWriter(prefix);
  for (let index = 0; index < 50; index += 5) {
    await addEvents(redis, prefix, events.slice(index, index + 5));
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  first.kill('SIGKILL');
  await once(first, 'exit');
  // Events keep flowing while no writer runs.
  for (let index = 50; index < 100; index += 5) {
    await addEvents(redis, prefix, events.slice(index, index + 5));
  }
  const second = await spawnWriter(prefix);
  t.teardown(async () => {
    second.kill('SIGTERM');
    await once(second, 'exit');
  });
  await waitFor(async () => (await countRows(database.db, `route = '${route}'`)) >= events.length, 30_000, 'all rows');
  await waitFor(async () => ((await redis.xpending(stream, LOG_WRITER_GROUP)) as [number])[0] === 0, 10_000, 'acked');
  t.equal(await countRows(database.db, `route = '${route}'`), events.length, 'every event is one row');
  const ids = new Set(events.map((event) => event.id));
  const stored = await countRows(database.db, `event_id in (${[...ids].map((id) => `'${id}'`).join(',')})`);
  t.equal(stored, events.length, 'the rows are exactly the events sent');
});
