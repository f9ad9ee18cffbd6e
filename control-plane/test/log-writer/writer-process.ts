// A log writer alone in a process, so a test can kill it with SIGKILL mid-stream.
// Env: REDIS_URL, DATABASE_URL, PREFIX, CLAIM_MIN_IDLE_MS, MIGRATE=1 (apply migrations first, for
// the gateway's end-to-end test, which cannot import the control plane). Prints `ready` once reading.
import { Redis } from 'ioredis';
import pino from 'pino';
import { createDb, postgresDialect } from '../../src/db.js';
import { createLogWriter } from '../../src/log-writer/log-writer.js';
import { runMigrations } from '../../src/migrate.js';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const db = createDb(postgresDialect(process.env.DATABASE_URL ?? '', { max: 2 }));
if (process.env.MIGRATE === '1') await runMigrations(db);
const noop = { inc() {}, set() {} };
const writer = createLogWriter({
  redis,
  db,
  prefix: process.env.PREFIX ?? 'tg',
  logger: pino({ level: 'silent' }),
  rowsTotal: noop,
  lagSeconds: noop,
  blockMs: 100,
  readCount: 2,
  claimIntervalMs: 300,
  claimMinIdleMs: Number(process.env.CLAIM_MIN_IDLE_MS ?? 10_000),
});
await writer.start();
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void writer.close().then(async () => {
    redis.disconnect();
    await db.destroy();
    process.exit(0);
  });
});
