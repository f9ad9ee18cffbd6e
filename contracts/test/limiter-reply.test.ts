// The limiter scripts' wire format as the client reads it: one string of integers per call.
import t from 'tap';
import { ScriptReplyError, checkItem, limiterScriptArguments, parseReply, parseReplyIntegers, type ScriptCheck } from '../lua/scripts.js';

const twoLimits: ScriptCheck = {
  keyId: 'k1',
  algorithm: 'sliding_window',
  limits: [
    { windowSeconds: 60, limit: 5 },
    { windowSeconds: 3600, limit: 100 },
  ],
  cost: 2,
};

t.test('a check becomes one ARGV item of algorithm, cost, count and window/limit pairs', async (t) => {
  t.equal(checkItem(twoLimits), '0 2 2 60000 5 3600000 100');
  t.equal(checkItem({ ...twoLimits, algorithm: 'sliding_log', limits: [{ windowSeconds: 1, limit: 1 }] }), '1 2 1 1000 1');
});

t.test('consecutive checks that are one object go to the script as one run: keys once, one item with the count', async (t) => {
  const other: ScriptCheck = { ...twoLimits, keyId: 'k2', limits: [{ windowSeconds: 60, limit: 5 }] };
  const keysOf = (check: ScriptCheck): string[] => check.limits.map((limit) => `{${check.keyId}}:${limit.windowSeconds}`);
  t.same(limiterScriptArguments([twoLimits, twoLimits, twoLimits, other, twoLimits], keysOf), [
    5,
    '{k1}:60',
    '{k1}:3600',
    '{k2}:60',
    '{k1}:60',
    '{k1}:3600',
    3,
    '0 2 2 60000 5 3600000 100 3',
    '0 2 1 60000 5',
    '0 2 2 60000 5 3600000 100',
  ]);
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

t.test('a reply gives each check its facts, per limit in the check\'s order', async (t) => {
  const [denied, allowed] = parseReply('0 1500 0 30001 40 3599000 1 0 3 60000 98 3600000', [twoLimits, twoLimits]);
  t.same(denied, { allowed: false, retryAfterMs: 1500, remaining: [0, 40], resetMs: [30001, 3599000] });
  t.same(allowed, { allowed: true, retryAfterMs: 0, remaining: [3, 98], resetMs: [60000, 3600000] });
});

t.test('a reply read as bytes, as the gateway gets it from Redis, gives the same facts as the text', async (t) => {
  const text = '0 1500 0 30001 40 3599000 1 0 3 60000 98 3600000';
  t.same(parseReply(Buffer.from(text, 'latin1'), [twoLimits, twoLimits]), parseReply(text, [twoLimits, twoLimits]));
  t.throws(() => parseReply(Buffer.from('1 0 3 6000x 98 3600000'), [twoLimits]), ScriptReplyError);
});

t.test('a reply that is not a string, too short or too long is refused', async (t) => {
  t.throws(() => parseReply([1, 0, 4, 60000], [twoLimits]), ScriptReplyError);
  t.throws(() => parseReply('1 0 3 60000', [twoLimits]), ScriptReplyError);
  t.throws(() => parseReply('1 0 3 60000 98 3600000 7', [twoLimits]), ScriptReplyError);
});
