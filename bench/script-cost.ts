// What one call of the limiter script costs Redis by its shape, to tell the fixed cost of a call
// from the cost of each check in it and of each distinct key: batches of 1, 10 and 50 checks of one
// key (the bench's load: one key, so group commit sends one run) and of 10 and 50 keys, sent one
// call at a time through the same wrapper the gateway uses, read from INFO commandstats and INFO cpu;
// and, for the floor of any script call, a script that only returns.
import { Redis } from 'ioredis';
import { toWindowLimits } from '../contracts/limits.js';
import { createLimiterScripts, type ScriptCheck } from '../contracts/lua/scripts.js';
import { createRedisMeter, usageBetween, type RedisMeter } from './redis-cost.js';

export interface ScriptCallCost {
  readonly checks: number;
  readonly keys: number;
  /** Script calls Redis counted while the shape was sent. */
  readonly calls: number;
  /** Time inside the script call (commandstats of EVALSHA/EVAL), per call. */
  readonly usecPerCall: number;
  /** Redis main-thread CPU per call, reading and replying included. */
  readonly cpuUsPerCall: number;
}

export interface ScriptCost {
  readonly shapes: readonly ScriptCallCost[];
  /** The same readings for a script that only returns (no checks, no keys). */
  readonly emptyScript: ScriptCallCost;
  /** Estimates from the shapes: a call of one check, each further check of the same key, each further key. */
  readonly fixedUsPerCall: number;
  readonly usPerCheckOfOneKey: number;
  readonly usPerFurtherKey: number;
}

const SHAPES: readonly { checks: number; keys: number }[] = [
  { checks: 1, keys: 1 },
  { checks: 10, keys: 1 },
  { checks: 50, keys: 1 },
  { checks: 10, keys: 10 },
  { checks: 50, keys: 50 },
];
const CALLS = 300;
const SCRIPT_COMMANDS = ['evalsha', 'eval'];
const EMPTY_SCRIPT = 'benchEmptyScript';

/** Sends `send` CALLS times, one at a time, and reads what the script calls cost. */
async function measureCalls(meter: RedisMeter, shape: { checks: number; keys: number }, send: () => Promise<unknown>): Promise<ScriptCallCost> {
  await send(); // loads the script, so the measured calls are all EVALSHA
  const before = await meter.read();
  for (let call = 0; call < CALLS; call += 1) await send();
  const used = usageBetween(before, await meter.read());
  const usec = SCRIPT_COMMANDS.reduce((sum, name) => sum + (used.commands[name]?.usec ?? 0), 0);
  const calls = SCRIPT_COMMANDS.reduce((sum, name) => sum + (used.commands[name]?.calls ?? 0), 0);
  return { ...shape, calls, usecPerCall: usec / calls, cpuUsPerCall: (used.cpuMainMs * 1000) / calls };
}

export async function measureScriptCost(redisUrl: string, prefix: string): Promise<ScriptCost> {
  const client = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  const meter = createRedisMeter(redisUrl);
  try {
    const scripts = createLimiterScripts(client, `${prefix}:script-cost`);
    const limits = toWindowLimits([{ window: '1m', limit: 1_000_000_000 }]);
    const shapes: ScriptCallCost[] = [];
    for (const shape of SHAPES) {
      // The gateway reuses one check object per key, which the wrapper sends as one run.
      const perKey: ScriptCheck[] = Array.from({ length: shape.keys }, (_, key) => ({ subject: `shape-${shape.checks}-${key}`, algorithm: 'sliding_window', limits, cost: 1 }));
      const batch = Array.from({ length: shape.checks }, (_, index) => perKey[Math.floor((index * shape.keys) / shape.checks)] as ScriptCheck);
      shapes.push(await measureCalls(meter, shape, () => scripts.consume(batch)));
    }
    client.defineCommand(EMPTY_SCRIPT, { numberOfKeys: 0, lua: 'return 0' });
    const empty = (client as unknown as Record<typeof EMPTY_SCRIPT, () => Promise<unknown>>)[EMPTY_SCRIPT].bind(client);
    const emptyScript = await measureCalls(meter, { checks: 0, keys: 0 }, empty);
    const usecOf = (checks: number, keys: number): number => shapes.find((shape) => shape.checks === checks && shape.keys === keys)?.usecPerCall ?? Number.NaN;
    return {
      shapes,
      emptyScript,
      fixedUsPerCall: usecOf(1, 1),
      usPerCheckOfOneKey: (usecOf(50, 1) - usecOf(1, 1)) / 49,
      usPerFurtherKey: (usecOf(50, 50) - usecOf(50, 1)) / 49,
    };
  } finally {
    meter.close();
    client.disconnect();
  }
}

export function formatScriptCost(cost: ScriptCost): string {
  const lines = [
    `limiter script alone (${CALLS} calls one at a time per shape): fixed ${cost.fixedUsPerCall.toFixed(1)} µs per call, ` +
      `${cost.usPerCheckOfOneKey.toFixed(2)} µs per further check of the same key, ${cost.usPerFurtherKey.toFixed(2)} µs per further key; ` +
      `a script that only returns: ${cost.emptyScript.usecPerCall.toFixed(1)} µs in the script, ${cost.emptyScript.cpuUsPerCall.toFixed(1)} µs of Redis CPU per call`,
    `    ${'checks'.padStart(6)} ${'keys'.padStart(5)} ${'µs in script/call'.padStart(18)} ${'µs/check'.padStart(9)} ${'Redis CPU µs/call'.padStart(18)}`,
  ];
  for (const shape of cost.shapes) {
    lines.push(
      `    ${String(shape.checks).padStart(6)} ${String(shape.keys).padStart(5)} ${shape.usecPerCall.toFixed(1).padStart(18)} ${(shape.usecPerCall / shape.checks).toFixed(2).padStart(9)} ${shape.cpuUsPerCall.toFixed(1).padStart(18)}`,
    );
  }
  return lines.join('\n');
}
