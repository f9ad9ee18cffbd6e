// GATEWAY_FAILURE_MODE=local's budget: each limit shared among the live gateways, rounded down and
// at least 1, decided in memory; forgotten when Redis is back.
import t from 'tap';
import { toWindowLimits } from '../../../contracts/limits.js';
import { LocalBudget, localShare } from '../../src/limiter/local-budget.js';
import type { LimitCheck } from '../../src/limiter/store.js';

const check: LimitCheck = { subject: 'key_1', algorithm: 'sliding_window', limits: toWindowLimits([{ window: '1m', limit: 10 }]), cost: 1 };

t.test('a share is the limit divided by the live gateways, rounded down, at least 1', async (t) => {
  t.equal(localShare(10, 1), 10);
  t.equal(localShare(10, 3), 3);
  t.equal(localShare(2, 5), 1);
  t.equal(localShare(10, 0), 10, 'no count yet: the whole limit');
});

t.test('the budget admits the share and refuses past it, reporting the share as the limit', async (t) => {
  const budget = new LocalBudget(() => 3, () => 0);
  const replies = Array.from({ length: 4 }, () => budget.consume(check));
  t.same(replies.map(({ reply }) => reply.allowed), [true, true, true, false]);
  t.equal(replies[0]?.policy.limits[0]?.limit, 3);
  t.match(replies[0]?.policy.policyHeader, /q=3/);
});

t.test('a change in the number of live gateways changes the share', async (t) => {
  let live = 5;
  const budget = new LocalBudget(() => live, () => 0);
  t.equal(budget.consume(check).policy.limits[0]?.limit, 2);
  live = 2;
  t.equal(budget.consume(check).policy.limits[0]?.limit, 5);
});

t.test('reset forgets what was consumed', async (t) => {
  const budget = new LocalBudget(() => 10, () => 0);
  t.equal(budget.consume(check).reply.allowed, true);
  t.equal(budget.consume(check).reply.allowed, false);
  budget.reset();
  t.equal(budget.consume(check).reply.allowed, true);
});

t.test('a concurrency cap is shared too', async (t) => {
  const budget = new LocalBudget(() => 2, () => 0);
  const capped = (id: string): LimitCheck => ({ ...check, concurrency: { limit: 4, leaseMs: 60_000, id } });
  const answers = ['a', 'b', 'c'].map((id) => budget.consume(capped(id)));
  t.same(answers.map(({ reply }) => reply.allowed), [true, true, false]);
  t.equal(answers[0]?.policy.concurrency, 2);
});
