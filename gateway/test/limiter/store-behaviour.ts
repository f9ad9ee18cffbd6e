// The behaviour every RateLimitStore must show (one contract suite, every backend).
// redis-store.test.ts and memory-store.test.ts run it, so the two implementations cannot drift.
import t from 'tap';
import type { Algorithm } from '../../../contracts/limits.js';
import { toWindowLimits } from '../../../contracts/limits.js';
import type { Limit } from '../../../contracts/limits.js';
import type { LimitCheck, RateLimitStore, StoreReply } from '../../src/limiter/store.js';
import { consumeOnce, peekOnce } from '../helpers/store-calls.js';

export interface StoreUnderTest {
  readonly store: RateLimitStore;
  /** Releases what the factory made (not shared clients). */
  close(): Promise<void>;
}

export type StoreFactory = () => Promise<StoreUnderTest>;

const ALGORITHMS: readonly Algorithm[] = ['sliding_window', 'sliding_log'];

let serial = 0;
export function checkFor(algorithm: Algorithm, limits: Limit[], cost = 1): LimitCheck {
  serial += 1;
  return {
    keyId: `key_${process.pid}_${serial}_${Math.random().toString(36).slice(2, 8)}`,
    algorithm,
    limits: toWindowLimits(limits),
    cost,
  };
}

export function withCost(check: LimitCheck, cost: number): LimitCheck {
  return { ...check, cost };
}

export function admitted(replies: readonly StoreReply[]): number {
  return replies.filter((reply) => reply.allowed).length;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `consume` until it admits or the deadline passes; resolves with the admitting reply. */
export async function consumeUntilAdmitted(store: RateLimitStore, check: LimitCheck, deadlineMs: number) {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const reply = await consumeOnce(store, check);
    if (reply.allowed) return reply;
    if (Date.now() > deadline) throw new Error(`not admitted within ${deadlineMs} ms`);
    await sleep(20);
  }
}

export function storeBehaviour(label: string, factory: StoreFactory): void {
  async function using(body: (store: RateLimitStore) => Promise<void>): Promise<void> {
    const underTest = await factory();
    try {
      await body(underTest.store);
    } finally {
      await underTest.close();
    }
  }

  for (const algorithm of ALGORITHMS) {
    const name = `${label} ${algorithm}`;

    t.test(`${name}: a burst of N concurrent checks against a fresh limit L admits exactly min(N, L)`, async (t) => {
      await using(async (store) => {
        for (const [n, limit] of [
          [60, 20],
          [7, 20],
        ] as const) {
          const check = checkFor(algorithm, [{ window: '1h', limit }]);
          const replies = await Promise.all(Array.from({ length: n }, () => consumeOnce(store, check)));
          t.equal(admitted(replies), Math.min(n, limit), `${n} checks against ${limit}`);
        }
      });
    });

    t.test(`${name}: a check rejected by one window consumes none of the other windows`, async (t) => {
      await using(async (store) => {
        const check = checkFor(algorithm, [
          { window: '1m', limit: 3 },
          { window: '1h', limit: 5 },
        ]);
        const replies: StoreReply[] = [];
        for (let i = 0; i < 5; i += 1) replies.push(await consumeOnce(store, check));
        t.same(
          replies.map((reply) => reply.allowed),
          [true, true, true, false, false],
        );
        const peek = await peekOnce(store, check);
        t.equal(peek.remaining[1], 2, 'the hour window counts only the three admitted checks');
        t.equal(replies[4]?.remaining[1], 2);
        t.equal(replies[4]?.remaining[0], 0);
      });
    });

    t.test(`${name}: a cost consumes that many units and a larger cost than remains consumes none`, async (t) => {
      await using(async (store) => {
        const check = checkFor(algorithm, [{ window: '1h', limit: 10 }]);
        const first = await consumeOnce(store, withCost(check, 4));
        t.ok(first.allowed);
        t.equal(first.remaining[0], 6);
        const tooBig = await consumeOnce(store, withCost(check, 7));
        t.notOk(tooBig.allowed);
        t.equal(tooBig.remaining[0], 6);
        t.ok(tooBig.retryAfterMs > 0);
        const rest = await consumeOnce(store, withCost(check, 6));
        t.ok(rest.allowed);
        t.equal(rest.remaining[0], 0);
        t.notOk((await consumeOnce(store, check)).allowed);
      });
    });

    t.test(`${name}: a cost above the limit is never admitted and consumes nothing`, async (t) => {
      await using(async (store) => {
        const check = checkFor(algorithm, [{ window: '1h', limit: 3 }]);
        const reply = await consumeOnce(store, withCost(check, 4));
        t.notOk(reply.allowed);
        t.equal(reply.remaining[0], 3);
        t.ok((await consumeOnce(store, withCost(check, 3))).allowed);
      });
    });

    t.test(`${name}: peek consumes nothing`, async (t) => {
      await using(async (store) => {
        const check = checkFor(algorithm, [
          { window: '1m', limit: 2 },
          { window: '1h', limit: 50 },
        ]);
        for (let i = 0; i < 5; i += 1) {
          const peek = await peekOnce(store, withCost(check, 1));
          t.ok(peek.allowed);
          t.same(peek.remaining, [2, 50]);
        }
        t.ok((await consumeOnce(store, check)).allowed);
        t.ok((await consumeOnce(store, check)).allowed);
        const full = await peekOnce(store, withCost(check, 1));
        t.notOk(full.allowed, 'peek says a further check would be rejected');
        t.same(full.remaining, [0, 48]);
        const free = await peekOnce(store, withCost(check, 0));
        t.ok(free.allowed, 'a cost-0 peek only reports');
        t.same(free.remaining, [0, 48]);
      });
    });

    t.test(`${name}: peek answers what a consume of the same cost would`, async (t) => {
      await using(async (store) => {
        const check = checkFor(algorithm, [
          { window: '1m', limit: 3 },
          { window: '1h', limit: 10 },
        ]);
        for (let i = 0; i < 3; i += 1) await consumeOnce(store, check);
        const peek = await peekOnce(store, check);
        const consume = await consumeOnce(store, check);
        t.equal(peek.allowed, consume.allowed);
        t.notOk(consume.allowed);
        t.same(peek.remaining, consume.remaining);
        // Both read the same state a moment apart; only the clock moved in between.
        t.ok(Math.abs(peek.retryAfterMs - consume.retryAfterMs) < 1000, 'retry-after agrees');
        peek.resetMs.forEach((ms, i) => t.ok(Math.abs(ms - (consume.resetMs[i] ?? 0)) < 1000, 'reset agrees'));
      });
    });

    t.test(`${name}: remaining and reset describe the windows after a check`, async (t) => {
      await using(async (store) => {
        const check = checkFor(algorithm, [
          { window: '1m', limit: 5 },
          { window: '1h', limit: 100 },
        ]);
        const reply = await consumeOnce(store, check);
        t.ok(reply.allowed);
        t.same(reply.remaining, [4, 99]);
        t.equal(reply.retryAfterMs, 0);
        if (algorithm === 'sliding_log') {
          t.same(reply.resetMs, [60_000, 3_600_000], 'the full quota is back one window after the entry');
        } else {
          // The counter's entry moves to the previous bucket at the next boundary and decays there.
          reply.resetMs.forEach((ms, i) => {
            const windowMs = (check.limits[i]?.windowSeconds ?? 0) * 1000;
            t.ok(ms > windowMs && ms <= 2 * windowMs, `reset ${ms} within (window, 2 windows]`);
          });
        }
        const fresh = await peekOnce(store, checkFor(algorithm, [{ window: '1m', limit: 5 }], 0));
        t.same(fresh.remaining, [5]);
        t.same(fresh.resetMs, [0], 'an untouched window is full now');
      });
    });

    t.test(`${name}: a 1 s window admits again after about a second`, async (t) => {
      await using(async (store) => {
        const check = checkFor(algorithm, [{ window: '1s', limit: 2 }]);
        // Concurrent, so all three are decided within the same instant even on a loaded machine.
        const replies = await Promise.all([consumeOnce(store, check), consumeOnce(store, check), consumeOnce(store, check)]);
        t.same(
          replies.map((reply) => reply.allowed),
          [true, true, false],
        );
        const rejected = replies[2] as StoreReply;
        t.ok(rejected.retryAfterMs > 0 && rejected.retryAfterMs <= 2000, `retry after ${rejected.retryAfterMs} ms`);
        const again = await consumeUntilAdmitted(store, check, 3000);
        t.ok(again.allowed);
      });
    });
  }

  t.test(`${label} sliding_log: the log is exact, only entries older than the window come back`, async (t) => {
    await using(async (store) => {
      // 2 s window, the second group 1 s after the first: a second of margin for a loaded machine.
      const check = checkFor('sliding_log', [{ window: '2s', limit: 5 }]);
      const early = await Promise.all([consumeOnce(store, check), consumeOnce(store, check), consumeOnce(store, check)]);
      t.equal(admitted(early), 3);
      await sleep(1000);
      t.equal(admitted(await Promise.all([consumeOnce(store, check), consumeOnce(store, check)])), 2);
      const rejected = await consumeOnce(store, check);
      t.notOk(rejected.allowed);
      t.ok(rejected.retryAfterMs <= 1000, `the oldest entries leave first (retry ${rejected.retryAfterMs} ms)`);
      // Once the first three have left, exactly three units are free: the later two still count.
      await consumeUntilAdmitted(store, check, 3000);
      await sleep(50); // the other two early entries leave within the same millisecond or so
      const burst = await Promise.all(Array.from({ length: 6 }, () => consumeOnce(store, check)));
      t.equal(admitted(burst), 2);
    });
  });

  t.test(`${label}: checks of different keys do not share counts`, async (t) => {
    await using(async (store) => {
      const a = checkFor('sliding_window', [{ window: '1h', limit: 1 }]);
      const b = { ...a, keyId: `${a.keyId}_b` };
      t.ok((await consumeOnce(store, a)).allowed);
      t.notOk((await consumeOnce(store, a)).allowed);
      t.ok((await consumeOnce(store, b)).allowed);
    });
  });
}
