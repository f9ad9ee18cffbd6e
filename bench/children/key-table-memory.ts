// The heap one key takes in the gateway's key table, without the noise of a whole gateway: this
// process (run with --expose-gc) loads the projection through the gateway's own feed code, collects
// garbage before and after, and sends the difference per key to its parent; then exits. Also the
// load's wall and CPU time, in a process that does nothing else.
import pino from 'pino';
import { createRedisConnection, waitForReady } from '../../contracts/redis-connection.js';
import { startKeyFeed } from '../../gateway/src/keys/feed.js';

export interface KeyTableMemoryMessage {
  readonly type: 'key-table-memory';
  readonly keys: number;
  readonly heapBytesPerKey: number;
  readonly loadMs: number;
  readonly loadCpuMs: number;
}

const url = process.env.KEY_TABLE_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = process.env.KEY_TABLE_PREFIX ?? 'tg';
const collect = (globalThis as { gc?: () => void }).gc;
if (!collect) throw new Error('run with --expose-gc');

const redis = createRedisConnection({ url, behaviour: 'patient', connectionName: 'bench-key-table' });
const subscriber = createRedisConnection({ url, behaviour: 'patient', autoPipelining: false, connectionName: 'bench-key-table-subscriber' });
await Promise.all([waitForReady(redis), waitForReady(subscriber)]);
collect();
const heapBefore = process.memoryUsage().heapUsed;
const cpuBefore = process.cpuUsage();
const started = performance.now();
const feed = startKeyFeed({ redis, subscriber, prefix, logger: pino({ level: 'warn' }) });
await feed.ready;
const loadMs = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
collect();
const heapAfter = process.memoryUsage().heapUsed;
const message: KeyTableMemoryMessage = {
  type: 'key-table-memory',
  keys: feed.size,
  heapBytesPerKey: feed.size > 0 ? (heapAfter - heapBefore) / feed.size : Number.NaN,
  loadMs,
  loadCpuMs: (cpu.user + cpu.system) / 1000,
};
process.send?.(message);
await feed.close();
redis.disconnect();
subscriber.disconnect();
process.disconnect?.();
