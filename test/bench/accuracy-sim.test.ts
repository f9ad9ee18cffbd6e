// The accuracy bench's building blocks, and the bounds the README states: the sliding log never
// admits more than the limit in any true window; the two-bucket counter never more than twice it.
import t from 'tap';
import { boundaryBursts, burstThenOverload, maxInAnyWindow, poissonArrivals, seededRandom, simulate } from '../../bench/accuracy-sim.js';

const LIMIT = 10;
const WINDOW_MS = 1_000;
const WINDOWS = 200;
const DURATION_MS = WINDOWS * WINDOW_MS;

t.test('the most requests in any true window counts the half-open window (t - w, t]', async (t) => {
  t.equal(maxInAnyWindow([], 10), 0);
  t.equal(maxInAnyWindow([0, 5, 9.9, 10, 19], 10), 3, '(0, 10] holds 5, 9.9 and 10 but not 0');
  t.equal(maxInAnyWindow([0, 10, 20, 30], 10), 1, 'requests exactly one window apart never share one');
});

t.test('the seeded generator repeats itself and Poisson arrivals keep their rate', async (t) => {
  t.same(poissonArrivals(0.01, 10_000, seededRandom(7)), poissonArrivals(0.01, 10_000, seededRandom(7)));
  const arrivals = poissonArrivals(0.01, 1_000_000, seededRandom(7));
  t.ok(Math.abs(arrivals.length - 10_000) < 500, `about 10000 arrivals, got ${arrivals.length}`);
  t.ok(arrivals.every((time, i) => i === 0 || time >= (arrivals[i - 1] as number)), 'in time order');
});

const patterns = {
  'Poisson at the limit': poissonArrivals(LIMIT / WINDOW_MS, DURATION_MS, seededRandom(1)),
  'Poisson at 3x the limit': poissonArrivals((3 * LIMIT) / WINDOW_MS, DURATION_MS, seededRandom(2)),
  'bursts at window boundaries': boundaryBursts(LIMIT, WINDOW_MS, WINDOWS),
  'a burst, then overload': burstThenOverload(LIMIT, WINDOW_MS, WINDOWS),
};

for (const [name, arrivals] of Object.entries(patterns)) {
  t.test(`${name}: the sliding log admits at most the limit in any true window`, async (t) => {
    const result = simulate('sliding_log', LIMIT, WINDOW_MS, arrivals, DURATION_MS);
    t.ok(result.admitted > 0);
    t.ok(result.maxWindowRatio <= 1, `max ${result.maxWindowRatio} L`);
  });
  t.test(`${name}: the sliding counter admits at most twice the limit in any true window`, async (t) => {
    const result = simulate('sliding_window', LIMIT, WINDOW_MS, arrivals, DURATION_MS);
    t.ok(result.admitted > 0);
    t.ok(result.maxWindowRatio <= 2, `max ${result.maxWindowRatio} L`);
  });
}

t.test('a burst at the end of a quiet window lets the counter go well over the limit', async (t) => {
  const result = simulate('sliding_window', LIMIT, WINDOW_MS, patterns['a burst, then overload'], DURATION_MS);
  t.ok(result.maxWindowRatio > 1.5, `max ${result.maxWindowRatio} L: the assumption of evenly spread traffic is what fails`);
});

t.test('bursts on both sides of a window boundary do not fool either algorithm', async (t) => {
  for (const algorithm of ['sliding_window', 'sliding_log'] as const) {
    t.equal(simulate(algorithm, LIMIT, WINDOW_MS, patterns['bursts at window boundaries'], DURATION_MS).maxWindowRatio, 1, algorithm);
  }
});
