// Which Redis the bench measures against: a redis-server of the run's own unless told otherwise,
// because the machine's shared one carries other work and cannot be pinned off the measured core.
import t from 'tap';
import { readBenchConfig } from '../../bench/config.js';
import { isInstalled } from '../../bench/installed.js';

t.test('with no REDIS_URL the bench starts a Redis of its own when redis-server is installed', async (t) => {
  t.equal(readBenchConfig({}).ownRedis, isInstalled('redis-server'));
});

t.test('an explicit REDIS_URL is used as it is', async (t) => {
  const config = readBenchConfig({ REDIS_URL: 'redis://10.0.0.5:6379' });
  t.equal(config.ownRedis, false);
  t.equal(config.redisUrl, 'redis://10.0.0.5:6379');
});

t.test('BENCH_OWN_REDIS=0 and =1 override the default', async (t) => {
  t.equal(readBenchConfig({ BENCH_OWN_REDIS: '0' }).ownRedis, false);
  t.equal(readBenchConfig({ BENCH_OWN_REDIS: '1', REDIS_URL: 'redis://10.0.0.5:6379' }).ownRedis, true);
});

t.test('the run’s own Redis runs at nice -10 unless BENCH_REDIS_NICE says otherwise', async (t) => {
  t.equal(readBenchConfig({}).ownRedisNice, -10);
  t.equal(readBenchConfig({ BENCH_REDIS_NICE: '0' }).ownRedisNice, 0);
  t.throws(() => readBenchConfig({ BENCH_REDIS_NICE: '-21' }), { code: 'BENCH_CONFIG' });
  t.throws(() => readBenchConfig({ BENCH_REDIS_NICE: 'high' }), { code: 'BENCH_CONFIG' });
});

t.test('each system gets 10 s of warm-up unless BENCH_WARMUP says otherwise', async (t) => {
  t.equal(readBenchConfig({}).warmupSeconds, 10);
  t.equal(readBenchConfig({ BENCH_WARMUP: '0' }).warmupSeconds, 0);
});
