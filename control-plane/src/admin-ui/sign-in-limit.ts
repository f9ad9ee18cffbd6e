// At most 10 failed sign-ins a minute per username and per client address, counted by Tollgate's
// own limiter: the Lua scripts on Redis in production, the gateway's in-memory store in the
// single-machine mode (the launcher adapts it to the same two calls). An exact sliding log, so the
// 11th failure within any 60 s is refused.
//
// Order matters: a blocked name or address is refused before its password is checked (otherwise a
// blocked guesser would still learn which guess is right), and a failure is counted after. Attempts
// on the same name or address run one at a time in this process, so a burst of parallel guesses
// cannot all pass the check before any failure is counted.
import { createHash } from 'node:crypto';
import { toWindowLimits, wholeSeconds } from '../../../contracts/limits.js';
import type { LimiterScripts, ScriptCheck } from '../../../contracts/lua/scripts.js';

export type SignInLimiterStore = Pick<LimiterScripts, 'peek' | 'consume'>;

export const SIGN_IN_FAILURES_PER_MINUTE = 10;
const LIMITS = toWindowLimits([{ window: '1m', limit: SIGN_IN_FAILURES_PER_MINUTE }]);

export interface SignInLimit {
  /**
   * Runs `attempt` unless the name or address is blocked; counts a failure when it returns false.
   * Resolves with the attempt's result, or `{ blocked: retryAfterSeconds }`.
   */
  attempt<T>(username: string, address: string, attempt: () => Promise<T | false>): Promise<T | false | { blocked: number }>;
}

function check(kind: string, value: string, cost: number): ScriptCheck {
  // Hashed: any username is a safe, bounded Redis key part (no hash-tag braces, no huge names).
  const digest = createHash('sha256').update(value).digest('hex').slice(0, 32);
  return {
    subject: `admin-sign-in:${kind}:${digest}`,
    algorithm: 'sliding_log',
    limits: LIMITS,
    cost,
  };
}

export function createSignInLimit(store: SignInLimiterStore): SignInLimit {
  const queues = new Map<string, Promise<unknown>>();

  /** Runs `task` after every earlier task of any of `names` has settled. */
  async function oneAtATime<T>(names: readonly string[], task: () => Promise<T>): Promise<T> {
    const earlier = names.map((name) => queues.get(name) ?? Promise.resolve());
    const run = Promise.allSettled(earlier).then(task);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    for (const name of names) queues.set(name, settled);
    try {
      return await run;
    } finally {
      for (const name of names) if (queues.get(name) === settled) queues.delete(name);
    }
  }

  return {
    attempt(username, address, attempt) {
      const user = username.toLowerCase();
      return oneAtATime([`u:${user}`, `a:${address}`], async () => {
        const checks = [check('user', user, 1), check('address', address, 1)];
        // One call per check: on a Redis Cluster the two live in different slots.
        const probes = await Promise.all(checks.map(async (one) => (await store.peek([one]))[0]));
        const blocked = probes.filter((reply) => reply !== undefined && !reply.allowed);
        // Retry-After as the gateway computes it: whole seconds, rounded up, at least 1.
        if (blocked.length > 0) return { blocked: Math.max(1, ...blocked.map((reply) => wholeSeconds(reply?.retryAfterMs ?? 0))) };
        const result = await attempt();
        if (result === false) await Promise.all(checks.map((one) => store.consume([one])));
        return result;
      });
    },
  };
}
