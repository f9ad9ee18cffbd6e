// The limiter scripts' wire format as the client reads it: one string of integers per call.
import t from 'tap';
import { toWindowLimits } from '../limits.js';
import { ScriptReplyError, limiterScriptArguments, parseReply, parseReplyIntegers, runItem, type ScriptCheck } from '../lua/scripts.js';

const twoLimits: ScriptCheck = {
  subject: 'k1',
  algorithm: 'sliding_window',
  limits: toWindowLimits([
    { window: '1m', limit: 5 },
    { window: '1h', limit: 100 },
  ]),
  cost: 2,
};

t.test('a run of checks becomes one ARGV item: count, cost, then type, window ms, limit and a third number per limit', async (t) => {
  t.equal(runItem(twoLimits, 3), '3 2 2 0 60000 5 0 0 3600000 100 0 0');
  t.equal(runItem({ ...twoLimits, algorithm: 'sliding_log', limits: toWindowLimits([{ window: '1s', limit: 1 }]) }, 1), '1 2 1 1 1000 1 0 0');
});

t.test('a GCRA limit carries its burst, the limit when none is given', async (t) => {
  const gcra: ScriptCheck = { subject: 'k1', algorithm: 'gcra', limits: toWindowLimits([{ window: '1m', limit: 60, burst: 10 }, { window: '1h', limit: 600 }]), cost: 1 };
  t.equal(runItem(gcra, 1), '1 1 2 2 60000 60 10 2 3600000 600 600 0');
});

t.test('a calendar limit carries its period: start, limit, the next period\'s start', async (t) => {
  const monthly: ScriptCheck = {
    subject: 'k1',
    algorithm: 'sliding_window',
    limits: toWindowLimits([{ window: 'month', limit: 1000 }]),
    periods: [{ start: 1_000, next: 2_000 }],
    cost: 1,
  };
  t.equal(runItem(monthly, 1), '1 1 1 3 1000 1000 2000 0');
  t.throws(() => runItem({ ...monthly, periods: undefined, limits: toWindowLimits([{ window: 'day', limit: 5 }]) }, 1), ScriptReplyError, 'a calendar limit without its period is a bug, not a silent zero');
});

t.test('a check with a concurrency slot ends its item with the cap, the lease and the slot id', async (t) => {
  const capped: ScriptCheck = { ...twoLimits, concurrency: { limit: 4, leaseMs: 60_000, id: 'g1.7' } };
  t.equal(runItem(capped, 1), '1 2 2 0 60000 5 0 0 3600000 100 0 4 60000 g1.7');
});

t.test('consecutive checks that are one object go to the script as one run: keys once, one item with the count', async (t) => {
  const other: ScriptCheck = { ...twoLimits, subject: 'k2', limits: toWindowLimits([{ window: '1m', limit: 5 }]) };
  const keysOf = (check: ScriptCheck): string[] => check.limits.map((limit) => `{${check.subject}}:${limit.windowSeconds}`);
  t.same(limiterScriptArguments([twoLimits, twoLimits, twoLimits, other, twoLimits], keysOf, true), [
    5,
    '{k1}:60',
    '{k1}:3600',
    '{k2}:60',
    '{k1}:60',
    '{k1}:3600',
    1,
    3,
    '3 2 2 0 60000 5 0 0 3600000 100 0 0',
    '1 2 1 0 60000 5 0 0',
    '1 2 2 0 60000 5 0 0 3600000 100 0 0',
  ]);
});

t.test('checks with concurrency slots never share a run, even when they are one object', async (t) => {
  const capped: ScriptCheck = { ...twoLimits, limits: toWindowLimits([{ window: '1m', limit: 5 }]), concurrency: { limit: 1, leaseMs: 1000, id: 's' } };
  const args = limiterScriptArguments([capped, capped], () => ['{k1}:60'], false);
  t.same(args.slice(3), [0, 2, '1 2 1 0 60000 5 0 1 1000 s', '1 2 1 0 60000 5 0 1 1000 s']);
});

t.test('the integers of a reply are read in order, negative ones included', async (t) => {
  t.same(parseReplyIntegers('1 0 4 60000 -3'), [1, 0, 4, 60000, -3]);
  t.same(parseReplyIntegers(''), []);
});

t.test('anything but single-space separated integers is refused', async (t) => {
  // '\u0131' has 0x31 ('1') as its low byte: text is never narrowed to single bytes.
  for (const text of ['1  2', ' 1', '1 ', '1.5', '1e+14', 'nan', '--1', '1-', '1234567890123456', '\u0131']) {
    t.throws(() => parseReplyIntegers(text), ScriptReplyError, JSON.stringify(text));
  }
});

t.test("a reply gives each check its facts, per limit in the check's order, and which limit refused", async (t) => {
  const [denied, allowed] = parseReply('0 1500 2 0 30001 0 3599000 1 0 0 3 60000 98 3600000', [twoLimits, twoLimits]);
  t.same(denied, { allowed: false, retryAfterMs: 1500, refused: 1, remaining: [0, 0], resetMs: [30001, 3599000], inFlight: null });
  t.same(allowed, { allowed: true, retryAfterMs: 0, refused: -1, remaining: [3, 98], resetMs: [60000, 3600000], inFlight: null });
});

t.test('a check with a concurrency slot reads the requests in flight after its limits', async (t) => {
  const capped: ScriptCheck = { ...twoLimits, concurrency: { limit: 2, leaseMs: 1000, id: 's' } };
  const [full] = parseReply('0 1000 3 3 60000 98 3600000 2', [capped]);
  t.same(full, { allowed: false, retryAfterMs: 1000, refused: 2, remaining: [3, 98], resetMs: [60000, 3600000], inFlight: 2 });
});

t.test('a reply read as bytes, as the gateway gets it from Redis, gives the same facts as the text', async (t) => {
  const text = '0 1500 1 0 30001 40 3599000 1 0 0 3 60000 98 3600000';
  t.same(parseReply(Buffer.from(text, 'latin1'), [twoLimits, twoLimits]), parseReply(text, [twoLimits, twoLimits]));
  t.throws(() => parseReply(Buffer.from('1 0 0 3 6000x 98 3600000'), [twoLimits]), ScriptReplyError);
});

t.test('a reply that is not a string, too short or too long is refused', async (t) => {
  t.throws(() => parseReply([1, 0, 0, 4, 60000], [twoLimits]), ScriptReplyError);
  t.throws(() => parseReply('1 0 0 3 60000', [twoLimits]), ScriptReplyError);
  t.throws(() => parseReply('1 0 0 3 60000 98 3600000 7', [twoLimits]), ScriptReplyError);
});
