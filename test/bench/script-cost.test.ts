// The limiter script's cost by call shape runs the real script through the gateway's wrapper.
import t from 'tap';
import { measureScriptCost } from '../../bench/script-cost.js';
import { startRedisServer } from '../../test-support/redis-server.js';

t.test('every call shape is measured over the script calls Redis counted for it', async (t) => {
  const server = await startRedisServer();
  t.teardown(() => server.stop());
  const cost = await measureScriptCost(server.url, 'bench-test');
  t.same(
    cost.shapes.map((shape) => [shape.checks, shape.keys, shape.calls]),
    [
      [1, 1, 300],
      [10, 1, 300],
      [50, 1, 300],
      [10, 10, 300],
      [50, 50, 300],
    ],
  );
  t.equal(cost.emptyScript.calls, 300, 'and a script that only returns');
  t.ok(cost.shapes.every((shape) => shape.usecPerCall > 0 && shape.cpuUsPerCall > 0), 'each has a time in the script and a CPU time');
});
