// What a client is told about a bad body: one message per field, in words a person understands,
// pointing at the field.
import t from 'tap';
import { problemType } from '../../../contracts/problem.js';
import { startTestApp } from '../helpers/test-app.js';

const ctx = await startTestApp('validation-messages');
t.teardown(() => ctx.close());

const cases: [string, unknown, { path: string; message: string }[]][] = [
  ['a tier name with capitals and a space', { name: 'Bad Name', limits: [{ window: '1m', limit: 5 }] }, [
    { path: 'name', message: 'must be 1 to 63 lowercase letters, digits, _ or -, starting with a letter or digit' },
  ]],
  ['a window that is no duration gets one message, not two', { name: 'w', limits: [{ window: '5x', limit: 5 }] }, [
    { path: 'limits.0.window', message: 'must be a duration such as 30s, 1m, 1h or 1d, or day or month' },
  ]],
  ['a window beyond 31 days', { name: 'w', limits: [{ window: '40d', limit: 5 }] }, [{ path: 'limits.0.window', message: 'must be between 1s and 31d' }]],
  ['a fractional limit', { name: 'w', limits: [{ window: '1m', limit: 1.5 }] }, [{ path: 'limits.0.limit', message: 'must be a whole number' }]],
  ['a limit sent as text', { name: 'w', limits: [{ window: '1m', limit: '5' }] }, [{ path: 'limits.0.limit', message: 'must be a number' }]],
  ['a limit of 0', { name: 'w', limits: [{ window: '1m', limit: 0 }] }, [{ path: 'limits.0.limit', message: 'must be at least 1' }]],
  ['no limits at all', { name: 'w', limits: [] }, [{ path: 'limits', message: 'must list at least one item' }]],
  ['a missing field', { name: 'w' }, [{ path: 'limits', message: 'is required' }]],
  ['an unknown algorithm', { name: 'w', limits: [{ window: '1m', limit: 5 }], algorithm: 'fixed' }, [
    { path: 'algorithm', message: 'must be one of sliding_window, sliding_log, gcra' },
  ]],
  ['an unknown field', { name: 'w', limits: [{ window: '1m', limit: 5 }], colour: 'red' }, [{ path: 'colour', message: 'unknown field' }]],
];

for (const [label, body, errors] of cases) {
  t.test(`${label}: 400 validation-failed naming the field`, async (t) => {
    const response = await ctx.call('POST', '/v1/tiers', body);
    t.equal(response.status, 400);
    t.equal(response.body.type, problemType('validation-failed'));
    t.same(response.body.errors, errors);
  });
}

t.test('no message names zod or its types', async (t) => {
  const response = await ctx.call('POST', '/v1/keys', { name: 7, tier: null, expires_at: 'tomorrow', limits: [{ window: '1m', limit: -1 }] });
  t.equal(response.status, 400);
  for (const error of response.body.errors as { message: string }[]) t.notMatch(error.message, /Invalid input|expected|received|Too small/, error.message);
});
