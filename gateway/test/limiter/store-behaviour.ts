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

const ALGORITHMS: readonly Algorithm[] = ['sliding_window', 'sliding_log', 'gcra'];

let serial = 0;
/** A fresh subject each time, so tests sharing one Redis never share counts. */
export function freshSubject(): string {
  serial += 1;
  return `key_${process.pid}_${serial}_${Math.random().toString(36).slice(2, 8)}`;
}

export function checkFor(algorithm: Algorithm, limits: Limit[], cost = 1): LimitCheck {
  return { subject: freshSubject(), algorithm, limits: toWindowLimits(limits), cost };
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
        } else if (algorithm === 'gcra') {
          // One unit drains in window ÷ limit: 12 s of a minute's 5, 36 s of an hour's 100.
          reply.resetMs.forEach((ms, i) => t.ok(Math.abs(ms - ([12_000, 36_000][i] ?? 0)) <= 50, `reset ${ms} is one emission interval`));
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
      const b = { ...a, subject: `${a.subject}_b` };
      t.ok((await consumeOnce(store, a)).allowed);
      t.notOk((await consumeOnce(store, a)).allowed);
      t.ok((await consumeOnce(store, b)).allowed);
    });
  });

  t.test(`${label} gcra: a burst goes at once, then one unit per emission interval`, async (t) => {
    await using(async (store) => {
      // 60 a minute is one a second; a burst of 10 may go at once.
      const check = checkFor('gcra', [{ window: '1m', limit: 60, burst: 10 }]);
      const replies = await Promise.all(Array.from({ length: 15 }, () => consumeOnce(store, check)));
      t.equal(admitted(replies), 10, 'the burst, no more');
      const refused = replies.find((reply) => !reply.allowed) as StoreReply;
      t.ok(refused.retryAfterMs > 800 && refused.retryAfterMs <= 1000, `the next unit in about a second (${refused.retryAfterMs} ms)`);
      t.equal(refused.remaining[0], 0);
      await consumeUntilAdmitted(store, check, 3000);
      t.notOk((await consumeOnce(store, check)).allowed, 'one interval brings back one unit, not the burst');
    });
  });

  t.test(`${label}: a day or month limit counts per period; a clock past the period's end counts in the next`, async (t) => {
    await using(async (store) => {
      const now = Date.now();
      const period = { start: now - 60_000, next: now + 600 };
      const check: LimitCheck = { subject: freshSubject(), algorithm: 'sliding_window', limits: toWindowLimits([{ window: 'day', limit: 2 }]), periods: [period], cost: 1 };
      const replies = await Promise.all([consumeOnce(store, check), consumeOnce(store, check), consumeOnce(store, check)]);
      t.equal(admitted(replies), 2);
      const refused = replies.find((reply) => !reply.allowed) as StoreReply;
      t.ok(refused.retryAfterMs <= 600 && refused.retryAfterMs > 0, `retry when the period ends (${refused.retryAfterMs} ms)`);
      t.ok((refused.resetMs[0] ?? 0) <= 600, 'the quota is back when the period ends');
      await sleep(Math.max(0, period.next - Date.now()) + 50);
      // The caller still sends the old period (its clock is behind): the store's clock decides.
      t.ok((await consumeOnce(store, check)).allowed, 'the next period starts empty');
      const next: LimitCheck = { ...check, periods: [{ start: period.next, next: period.next + 86_400_000 }] };
      const again = await consumeOnce(store, next);
      t.ok(again.allowed, 'the same period, sent by a caller whose clock caught up, keeps its count');
      t.equal(again.remaining[0], 0);
      t.notOk((await consumeOnce(store, next)).allowed);
    });
  });

  t.test(`${label}: a route's limits count apart from the key's own limits of the same window`, async (t) => {
    await using(async (store) => {
      const own = checkFor('sliding_window', [{ window: '1m', limit: 1 }]);
      const onRoute: LimitCheck = { ...own, limits: toWindowLimits([{ window: '1m', limit: 1 }], 'reports') };
      t.ok((await consumeOnce(store, own)).allowed);
      t.ok((await consumeOnce(store, onRoute)).allowed, "the route's count is its own");
      t.notOk((await consumeOnce(store, own)).allowed);
      t.notOk((await consumeOnce(store, onRoute)).allowed);
    });
  });

  /** A check that takes a concurrency slot of its own. */
  function slotted(base: LimitCheck, limit: number, leaseMs = 60_000): LimitCheck {
    serial += 1;
    return { ...base, concurrency: { limit, leaseMs, id: `slot${serial}` } };
  }

  async function inFlight(store: RateLimitStore, base: LimitCheck, limit: number): Promise<number> {
    return (await peekOnce(store, slotted(base, limit))).inFlight ?? -1;
  }

  async function untilInFlight(store: RateLimitStore, base: LimitCheck, limit: number, expected: number, deadlineMs: number): Promise<number> {
    const deadline = Date.now() + deadlineMs;
    for (;;) {
      const count = await inFlight(store, base, limit);
      if (count === expected || Date.now() > deadline) return count;
      await sleep(20);
    }
  }

  t.test(`${label}: at most N requests hold a concurrency slot at once; the rest are refused by the cap`, async (t) => {
    await using(async (store) => {
      const base = checkFor('sliding_window', [{ window: '1h', limit: 100 }]);
      const replies = await Promise.all(Array.from({ length: 5 }, () => consumeOnce(store, slotted(base, 3))));
      t.equal(admitted(replies), 3);
      const refused = replies.find((reply) => !reply.allowed) as StoreReply;
      t.equal(refused.refused, base.limits.length, 'the refusal names the cap, past the last limit');
      t.equal(refused.inFlight, 3);
      t.equal(refused.retryAfterMs, 1000, 'a short retry: no slot can be predicted to free up');
      t.equal((await peekOnce(store, base)).remaining[0], 97, 'a refusal by the cap consumes no units');
    });
  });

  t.test(`${label}: a released slot is free again; a renewed one outlives its first lease`, async (t) => {
    await using(async (store) => {
      const base = checkFor('sliding_window', [{ window: '1h', limit: 100 }]);
      const first = slotted(base, 2, 400);
      const second = slotted(base, 2, 400);
      t.ok((await consumeOnce(store, first)).allowed);
      t.ok((await consumeOnce(store, second)).allowed);
      t.notOk((await consumeOnce(store, slotted(base, 2))).allowed, 'both slots held');
      store.updateSlot({ subject: base.subject, slot: first.concurrency?.id ?? '', keep: false }, 400);
      t.equal(await untilInFlight(store, base, 2, 1, 2000), 1, 'the released slot is free');
      await sleep(250);
      store.updateSlot({ subject: base.subject, slot: second.concurrency?.id ?? '', keep: true }, 400);
      await sleep(250);
      t.equal(await inFlight(store, base, 2), 1, 'renewed at 250 ms, still held at 500 ms');
      t.equal(await untilInFlight(store, base, 2, 0, 2000), 0, 'then its lease ends');
    });
  });

  t.test(`${label}: a slot that is never released ends with its lease`, async (t) => {
    await using(async (store) => {
      const base = checkFor('sliding_window', [{ window: '1h', limit: 100 }]);
      t.ok((await consumeOnce(store, slotted(base, 1, 300))).allowed);
      t.notOk((await consumeOnce(store, slotted(base, 1, 300))).allowed);
      await sleep(350);
      t.ok((await consumeOnce(store, slotted(base, 1, 300))).allowed, 'the dead holder lost its slot');
    });
  });

  t.test(`${label}: a request refused by a rate limit takes no slot, and a peek takes none`, async (t) => {
    await using(async (store) => {
      const base = checkFor('sliding_window', [{ window: '1h', limit: 1 }]);
      t.ok((await consumeOnce(store, slotted(base, 5))).allowed);
      const refused = await consumeOnce(store, slotted(base, 5));
      t.notOk(refused.allowed);
      t.equal(refused.refused, 0, 'the rate limit refused it');
      t.equal(refused.inFlight, 1);
      await peekOnce(store, slotted(base, 5));
      t.equal(await inFlight(store, base, 5), 1);
    });
  });
}
