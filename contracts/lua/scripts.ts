// Loader and typed wrappers for the limiter scripts. The .lua files are read once,
// registered with ioredis `defineCommand` (EVALSHA, falling back to EVAL after NOSCRIPT, e.g. after
// SCRIPT FLUSH or a restart), and nothing else calls them. Both services use this: the gateway to
// consume, the control plane's usage endpoint to peek.
//
// Why one consume script for both algorithms: the checks of one event-loop turn share one call
// whatever their keys' tiers, and Lua has no includes, so a second script would copy the batch
// loop and the all-or-none rule. The read-only peek is its own script so it never writes.
import { readFileSync } from 'node:fs';
import type { Cluster, Redis } from 'ioredis';
import type { Algorithm } from '../limits.js';
import { limiterLogSequenceKey, limiterWindowKey } from '../redis-keys.js';

export interface ScriptLimit {
  readonly windowSeconds: number;
  readonly limit: number;
}

/** Structurally the gateway's LimitCheck; contracts cannot import the gateway. */
export interface ScriptCheck {
  readonly keyId: string;
  readonly algorithm: Algorithm;
  readonly limits: readonly ScriptLimit[];
  /** Units to consume from every limit; for a peek, the units that would be asked. */
  readonly cost: number;
}

/** Facts for one check, per limit in the order of `ScriptCheck.limits`. */
export interface ScriptReply {
  readonly allowed: boolean;
  readonly remaining: readonly number[];
  /** Ms until each window's full quota is back (≤ 2 windows for the counter). */
  readonly resetMs: readonly number[];
  /** 0 when allowed; else ms (rounded down, so never late) until every limit admits `cost`. */
  readonly retryAfterMs: number;
}

export class ScriptReplyError extends Error {
  override readonly name = 'ScriptReplyError';
  readonly code = 'SCRIPT_REPLY_INVALID';
}

interface ScriptSources {
  readonly consume: string;
  readonly peek: string;
}

let sources: ScriptSources | undefined;

/** The script texts, read from beside this module on first use (dist/ has copies). */
export function limiterScriptSources(): ScriptSources {
  sources ??= {
    consume: readFileSync(new URL('./sliding-window.lua', import.meta.url), 'utf8'),
    peek: readFileSync(new URL('./sliding-window-peek.lua', import.meta.url), 'utf8'),
  };
  return sources;
}

const CONSUME_COMMAND = 'tollgateLimit';
const PEEK_COMMAND = 'tollgateLimitPeek';
/** The ioredis command names the scripts are registered under. */
export const LIMITER_SCRIPT_COMMANDS: readonly string[] = [CONSUME_COMMAND, PEEK_COMMAND];

type ScriptCommand = (...args: (string | number)[]) => Promise<unknown>;
// The `…Buffer` variants ioredis defines with each command: the reply stays the bytes Redis sent,
// with no UTF-8 decoding into a string, and is scanned as bytes (parseReplyIntegers).
type ScriptClient = Record<`${typeof CONSUME_COMMAND | typeof PEEK_COMMAND}Buffer`, ScriptCommand>;

export interface LimiterScripts {
  /** Decide the checks in order, each all-or-none; one script call for all of them. On a Cluster
   * every check of one call must belong to the same API key (one hash slot). */
  consume(checks: readonly ScriptCheck[]): Promise<ScriptReply[]>;
  /** The same facts, consuming nothing. */
  peek(checks: readonly ScriptCheck[]): Promise<ScriptReply[]>;
}

interface KeyLayout {
  readonly limits: readonly ScriptLimit[];
  readonly algorithm: Algorithm;
  readonly keys: readonly string[];
}

// Redis key names per API key, so a request does not rebuild its strings; bounded by the key count.
const MAX_CACHED_LAYOUTS = 100_000;

export function createLimiterScripts(client: Redis | Cluster, prefix: string): LimiterScripts {
  const { consume, peek } = limiterScriptSources();
  client.defineCommand(CONSUME_COMMAND, { lua: consume });
  client.defineCommand(PEEK_COMMAND, { lua: peek, readOnly: true });
  const commands = client as unknown as ScriptClient;
  if (client.isCluster) {
    // ioredis' Cluster auto-pipelining picks a call's slot from its first argument, which for a
    // script with a variable key count is the count, not a key: calls for different slots would
    // share one pipeline and fail. Send these calls unpipelined there (RedisStore batches instead).
    const ignored = client.options.autoPipeliningIgnoredCommands ?? [];
    for (const name of LIMITER_SCRIPT_COMMANDS) if (!ignored.includes(name)) ignored.push(name);
    client.options.autoPipeliningIgnoredCommands = ignored;
  }
  const layouts = new Map<string, KeyLayout>();

  function keysOf(check: ScriptCheck): readonly string[] {
    const known = layouts.get(check.keyId);
    if (known && known.limits === check.limits && known.algorithm === check.algorithm) return known.keys;
    const keys = check.limits.map((item) => limiterWindowKey(prefix, check.keyId, check.algorithm, item.windowSeconds));
    if (check.algorithm === 'sliding_log') keys.push(limiterLogSequenceKey(prefix, check.keyId));
    if (layouts.size >= MAX_CACHED_LAYOUTS) layouts.clear();
    layouts.set(check.keyId, { limits: check.limits, algorithm: check.algorithm, keys });
    return keys;
  }

  function call(command: ScriptCommand, checks: readonly ScriptCheck[]): Promise<ScriptReply[]> {
    return command.apply(client, limiterScriptArguments(checks, keysOf)).then((reply) => parseReply(reply, checks));
  }

  return {
    consume: (checks) => call(commands[`${CONSUME_COMMAND}Buffer`], checks),
    peek: (checks) => call(commands[`${PEEK_COMMAND}Buffer`], checks),
  };
}

/**
 * The script's arguments in one array: key count, keys, item count, items (sliding-window.lua).
 * Consecutive checks that are the same object (one key's requests of one turn: the gateway's limiter
 * reuses one check per key and cost) go as one run: their keys once and one item with a repeat
 * count, so a busy key's batch of 20 checks is 5 arguments instead of 42 for ioredis to encode and
 * Redis to parse. The reply still has one entry per check, in order.
 */
export function limiterScriptArguments(checks: readonly ScriptCheck[], keysOf: (check: ScriptCheck) => readonly string[]): (string | number)[] {
  const args: (string | number)[] = [0];
  const items: string[] = [];
  for (let i = 0; i < checks.length; ) {
    const check = checks[i] as ScriptCheck;
    let end = i + 1;
    while (end < checks.length && checks[end] === check) end += 1;
    for (const key of keysOf(check)) args.push(key);
    items.push(runItem(check, end - i));
    i = end;
  }
  args[0] = args.length - 1;
  args.push(items.length);
  for (const item of items) args.push(item);
  return args;
}

// The ARGV item of a check (see sliding-window.lua), per check object: the gateway's limiter reuses
// one object per key and cost, so a request usually finds its item made.
const checkItems = new WeakMap<ScriptCheck, string>();

export function checkItem(check: ScriptCheck): string {
  let item = checkItems.get(check);
  if (item === undefined) {
    item = `${check.algorithm === 'sliding_log' ? 1 : 0} ${check.cost} ${check.limits.length}`;
    for (const limit of check.limits) item += ` ${limit.windowSeconds * 1000} ${limit.limit}`;
    checkItems.set(check, item);
  }
  return item;
}

/** The item of `count` checks in a row: a count above 1 is appended (the script's default is 1). */
export function runItem(check: ScriptCheck, count: number): string {
  const item = checkItem(check);
  return count === 1 ? item : `${item} ${count}`;
}

const SPACE = 32;
const MINUS = 45;
const ZERO = 48;
const NINE = 57;
/** More digits than any reply value has (windows are at most 31 days): also keeps them exact. */
const MAX_DIGITS = 15;

/**
 * The integers of a reply ("1 0 4 60000"), as the bytes ioredis hands over or as a string: a
 * hand-written scanner over the bytes, no split or string per reply. Bytes need no UTF-8 decoding,
 * and no method lookup per character (`text.charCodeAt` was a generic lookup each time while ioredis
 * had left String.prototype a dictionary: gateway/src/fast-string-prototype.ts).
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
    const count = (checks[c] as ScriptCheck).limits.length;
    if (at + 2 + 2 * count > reply.length) throw new ScriptReplyError('limiter script reply is too short');
    const allowed = reply[at] === 1;
    const retryAfterMs = allowed ? 0 : Math.max(0, reply[at + 1] as number);
    const remaining = new Array<number>(count);
    const resetMs = new Array<number>(count);
    for (let j = 0; j < count; j += 1) {
      remaining[j] = reply[at + 2 + 2 * j] as number;
      resetMs[j] = Math.max(0, reply[at + 3 + 2 * j] as number);
    }
    replies[c] = { allowed, remaining, resetMs, retryAfterMs };
    at += 2 + 2 * count;
  }
  if (at !== reply.length) throw new ScriptReplyError('limiter script reply has extra items');
  return replies;
}
