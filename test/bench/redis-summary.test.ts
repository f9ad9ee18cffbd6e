// Redis's cost per request from the rounds' readings: the figure against the aim, one core's
// capacity at that cost, and where the time goes.
import t from 'tap';
import type { RoundResult } from '../../bench/load.js';
import type { CommandUsage } from '../../bench/redis-cost.js';
import { summariseRedis } from '../../bench/redis-summary.js';

function round(responses: number, cpuMainMs: number, commands: Record<string, CommandUsage>): RoundResult {
  return {
    requestsPerSecond: responses / 10,
    latencyP50Ms: 1,
    latencyP99Ms: 2,
    latencyMaxMs: 3,
    responses,
    expectedResponses: responses,
    errors: 0,
    timeouts: 0,
    statusCodes: { 200: responses },
    redis: { cpuMainMs, cpuMainSysMs: cpuMainMs / 4, cpuTotalMs: cpuMainMs * 1.1, commands },
  };
}

// 10,000 requests per round, 1,000 script calls of 60 µs, of which 5 µs in HMGET and 3 in HSET.
const commands = {
  evalsha: { calls: 1000, usec: 60_000 },
  hmget: { calls: 1000, usec: 5_000 },
  hset: { calls: 1000, usec: 3_000 },
  xadd: { calls: 100, usec: 2_000 },
};

t.test('the cost is the median round’s main-thread CPU per request, and a core’s capacity 1 s over it', async (t) => {
  const cost = summariseRedis([round(10_000, 100, commands), round(10_000, 80, commands), round(10_000, 120, commands)]);
  t.same(cost?.usPerRequest, { median: 10, min: 8, max: 12 });
  t.equal(cost?.requestsPerCoreSecond, 100_000);
});

t.test('the kernel’s share is the system time of the main thread over all of its time', async (t) => {
  t.equal(summariseRedis([round(10_000, 100, commands), round(10_000, 60, commands)])?.kernelShare, 0.25);
});

t.test('script time splits into the commands the limiter script calls and Lua itself', async (t) => {
  const cost = summariseRedis([round(10_000, 100, commands)]);
  t.equal(cost?.scriptUsPerRequest, 6);
  t.equal(cost?.scriptCommandsUsPerRequest, 0.8, 'HMGET and HSET are called by limiter.lua');
  t.equal(cost?.luaUsPerRequest, 6 - 0.8);
  t.equal(cost?.otherCommandsUsPerRequest, 0.2, 'XADD is sent by the gateway itself');
  t.equal(cost?.outsideCommandsUsPerRequest, 10 - 6 - 0.2, 'the rest of the CPU is spent outside commands');
  t.equal(cost?.requestsPerScriptCall, 10, 'group commit: ten checks per call');
});

t.test('the command list gives calls per request and time per call, most time first', async (t) => {
  const cost = summariseRedis([round(10_000, 100, commands)]);
  t.same(cost?.commands[0], { name: 'evalsha', inScript: false, callsPerRequest: 0.1, usecPerCall: 60, usPerRequest: 6 });
  t.same(cost?.commands.map((command) => command.name), ['evalsha', 'hmget', 'hset', 'xadd']);
});

t.test('a system with a round Redis was not read for has no Redis cost', async (t) => {
  t.equal(summariseRedis([round(10_000, 100, commands), { ...round(10_000, 100, commands), redis: null }]), null);
});
