// Loader and typed wrappers for the limiter's Lua scripts. The .lua files are read once, registered
// with ioredis `defineCommand` (EVALSHA, falling back to EVAL after NOSCRIPT, e.g. after SCRIPT
// FLUSH or a restart), and nothing else calls them. Both services use this: the gateway to consume
// and release concurrency slots, the control plane's usage endpoint and sign-in limit to peek and
// consume.
//
// Why one limiter script for every kind of limit and for peeks: the checks of one event-loop turn
// share one call whatever their keys' tiers, and the read-only peek runs the very same maths with
// its writes left out, so the two cannot drift apart.
import { readFileSync } from 'node:fs';
import type { Cluster, Redis } from 'ioredis';
import type { Algorithm, WindowLimit } from '../limits.js';
import type { Period } from '../calendar.js';
import { concurrencyKey, limiterLimitKey, limiterLogSequenceKey } from '../redis-keys.js';

/** One request's concurrency slot: at most `limit` of the subject's requests in flight. */
export interface ConcurrencySlot {
  readonly limit: number;
  /** How long the slot is held unless released or renewed. */
  readonly leaseMs: number;
  /** Unique per request (no spaces). */
  readonly id: string;
}

export interface ScriptCheck {
  /** What the limits count: an API key's id, or `ip:<address>` for a route limited by client. */
  readonly subject: string;
  readonly algorithm: Algorithm;
  /** Sorted by window (toWindowLimits). */
  readonly limits: readonly WindowLimit[];
  /** The current period of each calendar limit, in the order of `limits` (null for the others). */
  readonly periods?: readonly (Period | null)[];
  /** Units to consume from every limit; for a peek, the units that would be asked. */
  readonly cost: number;
  /** The concurrency slot this request takes with its units; absent: no concurrency limit. */
  readonly concurrency?: ConcurrencySlot;
}

/** Facts for one check, per limit in the order of `ScriptCheck.limits`. */
export interface ScriptReply {
  readonly allowed: boolean;
  readonly remaining: readonly number[];
  /** Ms until each limit's whole quota is back. */
  readonly resetMs: readonly number[];
  /** 0 when allowed; else ms (rounded down, so never late) until every limit admits `cost`. */
  readonly retryAfterMs: number;
  /** Index into `limits` of the limit that refused it; `limits.length` for the concurrency cap; -1 when allowed. */
  readonly refused: number;
  /** The subject's requests in flight after this check; null without a concurrency limit. */
  readonly inFlight: number | null;
}

/** One concurrency slot operation: release it, or keep it for one more lease from now. */
export interface SlotOperation {
  readonly subject: string;
  readonly slot: string;
  readonly keep: boolean;
}

export class ScriptReplyError extends Error {
  override readonly name = 'ScriptReplyError';
  readonly code = 'SCRIPT_REPLY_INVALID';
}

interface ScriptSources {
  readonly limiter: string;
  readonly slots: string;
}

let sources: ScriptSources | undefined;

/** The script texts, read from beside this module on first use (dist/ has copies). */
export function limiterScriptSources(): ScriptSources {
  sources ??= {
    limiter: readFileSync(new URL('./limiter.lua', import.meta.url), 'utf8'),
    slots: readFileSync(new URL('./concurrency-slots.lua', import.meta.url), 'utf8'),
  };
  return sources;
}

const LIMITER_COMMAND = 'tollgateLimiter';
const SLOTS_COMMAND = 'tollgateSlots';
/** The ioredis command names the scripts are registered under. */
export const LIMITER_SCRIPT_COMMANDS: readonly string[] = [LIMITER_COMMAND, SLOTS_COMMAND];

type ScriptCommand = (...args: (string | number)[]) => Promise<unknown>;
// The `…Buffer` variant ioredis defines with each command: the reply stays the bytes Redis sent,
// with no UTF-8 decoding into a string, and is scanned as bytes (parseReplyIntegers).
type ScriptClient = Record<`${typeof LIMITER_COMMAND}Buffer`, ScriptCommand> & Record<typeof SLOTS_COMMAND, ScriptCommand>;

export interface LimiterScripts {
  /** Decide the checks in order, each all-or-none; one script call for all of them. On a Cluster
   * every check of one call must have the same subject (one hash slot). */
  consume(checks: readonly ScriptCheck[]): Promise<ScriptReply[]>;
  /** The same facts, consuming nothing. */
  peek(checks: readonly ScriptCheck[]): Promise<ScriptReply[]>;
  /** Releases or renews concurrency slots; on a Cluster, all of one subject. Resolves to how many were found. */
  slots(operations: readonly SlotOperation[], leaseMs: number): Promise<number>;
}

interface KeyLayout {
  readonly limits: readonly WindowLimit[];
  readonly algorithm: Algorithm;
  readonly concurrent: boolean;
  readonly keys: readonly string[];
}

// Redis key names per subject, so a request does not rebuild its strings; bounded by the key count.
const MAX_CACHED_LAYOUTS = 100_000;

export function createLimiterScripts(client: Redis | Cluster, prefix: string): LimiterScripts {
  const { limiter, slots } = limiterScriptSources();
  client.defineCommand(LIMITER_COMMAND, { lua: limiter });
  client.defineCommand(SLOTS_COMMAND, { lua: slots });
  const commands = client as unknown as ScriptClient;
  if (client.isCluster) {
    // ioredis' Cluster auto-pipelining picks a call's slot from its first argument, which for a
    // script with a variable key count is the count, not a key: calls for different slots would
    // share one pipeline and fail. Send these calls unpipelined there (the store batches instead).
    const ignored = client.options.autoPipeliningIgnoredCommands ?? [];
    for (const name of LIMITER_SCRIPT_COMMANDS) if (!ignored.includes(name)) ignored.push(name);
    client.options.autoPipeliningIgnoredCommands = ignored;
  }
  const layouts = new Map<string, KeyLayout>();

  function keysOf(check: ScriptCheck): readonly string[] {
    const concurrent = check.concurrency !== undefined;
    const known = layouts.get(check.subject);
    if (known && known.limits === check.limits && known.algorithm === check.algorithm && known.concurrent === concurrent) return known.keys;
    const keys = check.limits.map((limit) => limiterLimitKey(prefix, check.subject, check.algorithm, limit));
    if (usesLog(check)) keys.push(limiterLogSequenceKey(prefix, check.subject));
    if (concurrent) keys.push(concurrencyKey(prefix, check.subject));
    if (layouts.size >= MAX_CACHED_LAYOUTS) layouts.clear();
    layouts.set(check.subject, { limits: check.limits, algorithm: check.algorithm, concurrent, keys });
    return keys;
  }

  function call(consuming: boolean, checks: readonly ScriptCheck[]): Promise<ScriptReply[]> {
    const args = limiterScriptArguments(checks, keysOf, consuming);
    return commands[`${LIMITER_COMMAND}Buffer`].apply(client, args).then((reply) => parseReply(reply, checks));
  }

  return {
    consume: (checks) => call(true, checks),
    peek: (checks) => call(false, checks),
    slots(operations, leaseMs) {
      const args: (string | number)[] = [operations.length];
      for (const operation of operations) args.push(concurrencyKey(prefix, operation.subject));
      args.push(leaseMs);
      for (const operation of operations) args.push(`${operation.keep ? 'k' : 'r'} ${operation.slot}`);
      return commands[SLOTS_COMMAND].apply(client, args).then((found) => Number(found));
    },
  };
}

function usesLog(check: ScriptCheck): boolean {
  return check.algorithm === 'sliding_log' && check.limits.some((limit) => limit.calendar === null);
}

/**
 * The script's arguments in one array: key count, keys, mode, item count, items (limiter.lua).
 * Consecutive checks that are the same object (one key's requests of one turn: the gateway reuses
 * one check per key and cost) go as one run: their keys once and one item with a repeat count, so
 * a busy key's batch of 20 checks is a handful of arguments instead of 40 for ioredis to encode and
 * Redis to parse. The reply still has one entry per check, in order.
 */
export function limiterScriptArguments(
  checks: readonly ScriptCheck[],
  keysOf: (check: ScriptCheck) => readonly string[],
  consuming: boolean,
): (string | number)[] {
  const args: (string | number)[] = [0];
  const items: string[] = [];
  for (let i = 0; i < checks.length; ) {
    const check = checks[i] as ScriptCheck;
    let end = i + 1;
    // A check with a concurrency slot is one request's own: never part of a run.
    if (check.concurrency === undefined) while (end < checks.length && checks[end] === check) end += 1;
    for (const key of keysOf(check)) args.push(key);
    items.push(runItem(check, end - i));
    i = end;
  }
  args[0] = args.length - 1;
  args.push(consuming ? 1 : 0, items.length);
  for (const item of items) args.push(item);
  return args;
}

// The limits part of a check's ARGV item, per check object: the gateway reuses one object per key
// and cost (and per calendar period), so a request usually finds its item made.
const checkItems = new WeakMap<ScriptCheck, string>();

function limitsItem(check: ScriptCheck): string {
  let item = checkItems.get(check);
  if (item === undefined) {
    item = `${check.cost} ${check.limits.length}`;
    check.limits.forEach((limit, index) => {
      if (limit.calendar !== null) {
        const period = check.periods?.[index];
        if (period === undefined || period === null) throw new ScriptReplyError(`calendar limit ${limit.name} has no period`);
        item += ` 3 ${period.start} ${limit.limit} ${period.next}`;
      } else if (check.algorithm === 'gcra') {
        item += ` 2 ${limit.windowSeconds * 1000} ${limit.limit} ${limit.burst ?? limit.limit}`;
      } else {
        item += ` ${check.algorithm === 'sliding_log' ? 1 : 0} ${limit.windowSeconds * 1000} ${limit.limit} 0`;
      }
    });
    checkItems.set(check, item);
  }
  return item;
}

/** The ARGV item of `count` identical checks in a row (limiter.lua). */
export function runItem(check: ScriptCheck, count: number): string {
  const slot = check.concurrency;
  return slot === undefined ? `${count} ${limitsItem(check)} 0` : `1 ${limitsItem(check)} ${slot.limit} ${slot.leaseMs} ${slot.id}`;
}

const SPACE = 32;
const MINUS = 45;
const ZERO = 48;
const NINE = 57;
/** More digits than any reply value has (windows are at most 31 days): also keeps them exact. */
const MAX_DIGITS = 15;

/**
 * The integers of a reply ("1 0 0 4 60000"), as the bytes ioredis hands over or as a string: a
 * hand-written scanner over the bytes, no split or string per reply. Bytes need no UTF-8 decoding,
 * and no method lookup per character.
 */
export function parseReplyIntegers(reply: Uint8Array | string): number[] {
  // Text as UTF-8: any non-ASCII character becomes bytes ≥ 0x80, which the scanner refuses.
  const bytes = typeof reply === 'string' ? Buffer.from(reply, 'utf8') : reply;
  const out: number[] = [];
  const length = bytes.length;
  if (length === 0) return out;
  let value = 0;
  let digits = 0;
  let sign = 1;
  for (let i = 0; i <= length; i += 1) {
    const code = i === length ? SPACE : (bytes[i] as number);
    if (code >= ZERO && code <= NINE) {
      value = value * 10 + (code - ZERO);
      digits += 1;
    } else if (code === MINUS && digits === 0 && sign === 1) {
      sign = -1;
    } else if (code === SPACE && digits > 0 && digits <= MAX_DIGITS) {
      out.push(sign * value);
      value = 0;
      digits = 0;
      sign = 1;
    } else {
      throw new ScriptReplyError('limiter script reply holds a non-integer');
    }
  }
  return out;
}

/** Cheap hand-written shape check (no zod on the hot path): one bulk string (bytes or text) of
 * integers, as many as the checks ask for. */
export function parseReply(text: unknown, checks: readonly ScriptCheck[]): ScriptReply[] {
  if (typeof text !== 'string' && !(text instanceof Uint8Array)) throw new ScriptReplyError('limiter script reply is not a string');
  const reply = parseReplyIntegers(text);
  const replies: ScriptReply[] = new Array<ScriptReply>(checks.length);
  let at = 0;
  for (let c = 0; c < checks.length; c += 1) {
    const check = checks[c] as ScriptCheck;
    const count = check.limits.length;
    const concurrent = check.concurrency !== undefined;
    if (at + 3 + 2 * count + (concurrent ? 1 : 0) > reply.length) throw new ScriptReplyError('limiter script reply is too short');
    const allowed = reply[at] === 1;
    const remaining = new Array<number>(count);
    const resetMs = new Array<number>(count);
    for (let j = 0; j < count; j += 1) {
      remaining[j] = reply[at + 3 + 2 * j] as number;
      resetMs[j] = Math.max(0, reply[at + 4 + 2 * j] as number);
    }
    replies[c] = {
      allowed,
      remaining,
      resetMs,
      retryAfterMs: allowed ? 0 : Math.max(0, reply[at + 1] as number),
      refused: allowed ? -1 : (reply[at + 2] as number) - 1,
      inFlight: concurrent ? (reply[at + 3 + 2 * count] as number) : null,
    };
    at += 3 + 2 * count + (concurrent ? 1 : 0);
  }
  if (at !== reply.length) throw new ScriptReplyError('limiter script reply has extra items');
  return replies;
}
