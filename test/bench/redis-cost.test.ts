// What the bench reads from Redis around a round: the calls of each command, the commands a script
// calls among them, and the CPU of the thread that runs them. A Redis of the test's own, since
// INFO counts every client of the server.
import t from 'tap';
import { Redis } from 'ioredis';
import { createRedisMeter, usageBetween } from '../../bench/redis-cost.js';
import { startRedisServer } from '../../test-support/redis-server.js';

t.test('a round of script calls shows as calls of the script, of the commands it calls and as CPU', async (t) => {
  const server = await startRedisServer();
  const client = new Redis(server.url);
  const meter = createRedisMeter(server.url);
  t.teardown(async () => {
    meter.close();
    client.disconnect();
    await server.stop();
  });
  const before = await meter.read();
  for (let call = 0; call < 200; call += 1) await client.eval("redis.call('SET', KEYS[1], ARGV[1]) return 1", 1, 'bench-test', String(call));
  const round = usageBetween(before, await meter.read());
  t.equal(round.commands.eval?.calls, 200);
  t.equal(round.commands.set?.calls, 200, 'Redis counts the commands a script calls too');
  t.ok((round.commands.eval?.usec ?? 0) >= (round.commands.set?.usec ?? 0), 'the script’s time includes theirs');
  t.equal(round.commands.info, undefined, 'the meter’s own INFO calls are left out');
  t.ok(round.cpuMainMs > 0 && round.cpuTotalMs >= round.cpuMainMs, `main thread ${round.cpuMainMs} ms of ${round.cpuTotalMs} ms`);
});
