// Redis's cost per request of each Redis-backed system, from the rounds' INFO readings: CPU of the
// thread that runs every command, the admitted requests per second one Redis core could serve at
// that cost, and where the time goes (calls and time of each command; for the gateway, the limiter
// script, the Redis commands it calls and what Redis spends outside commands: reading requests,
// writing replies, its event loop).
import { readFileSync } from 'node:fs';
import type { RoundResult } from './load.js';
import type { CommandUsage } from './redis-cost.js';
import { median, spread, type Spread } from './stats.js';

/** The aim for Redis's cost: at most this much Redis CPU per admitted request (200k per second per core). */
export const REDIS_AIM_US = 5;

/** The commands that run a script: their time includes the commands the script calls. */
const SCRIPT_COMMANDS = new Set(['evalsha', 'eval', 'evalsha_ro', 'eval_ro', 'fcall', 'fcall_ro']);

/** The commands Tollgate's limiter script calls (Redis counts each of them in commandstats too). */
function limiterScriptCommands(): ReadonlySet<string> {
  try {
    const lua = readFileSync(new URL('../contracts/lua/limiter.lua', import.meta.url), 'utf8');
    // `redis.call('HMGET', …)`, or `call('HMGET', …)` where the script keeps redis.call in a local.
    return new Set([...lua.matchAll(/\bcall\('(\w+)'/g)].map((match) => (match[1] as string).toLowerCase()));
  } catch {
    return new Set();
  }
}

const LIMITER_COMMANDS = limiterScriptCommands();

export interface CommandCost {
  readonly name: string;
  /** Called from the limiter script (its time is also inside the script's). */
  readonly inScript: boolean;
  readonly callsPerRequest: number;
  readonly usecPerCall: number;
  readonly usPerRequest: number;
}

export interface RedisCost {
  /** Main-thread CPU µs per answered request, per round. */
  readonly usPerRequest: Spread;
  /** The same over every thread of the server (median). */
  readonly allThreadsUsPerRequest: number;
  /** The kernel's share of the main thread's CPU over all rounds (system time: sockets, softirqs). */
  readonly kernelShare: number;
  /** Requests per second one Redis core could serve at the median cost: 1 s / cost. */
  readonly requestsPerCoreSecond: number;
  /** Over all rounds: script calls (EVALSHA and the like) per request, and checks per call. */
  readonly scriptCallsPerRequest: number;
  readonly requestsPerScriptCall: number | null;
  /** µs per request inside script calls, of it inside the commands the limiter script calls, and the rest. */
  readonly scriptUsPerRequest: number;
  readonly scriptCommandsUsPerRequest: number;
  readonly luaUsPerRequest: number;
  /** µs per request inside other commands sent by clients (XADD of request events, …). */
  readonly otherCommandsUsPerRequest: number;
  /** Main-thread CPU not inside any command: sockets, parsing, replies, the event loop. */
  readonly outsideCommandsUsPerRequest: number;
  /** Every command that ran, most time per request first. */
  readonly commands: readonly CommandCost[];
}

export function summariseRedis(rounds: readonly RoundResult[]): RedisCost | null {
  const measured = rounds.filter((round) => round.redis && round.responses > 0);
  if (measured.length === 0 || measured.length !== rounds.length) return null;
  const perRound = measured.map((round) => ((round.redis?.cpuMainMs ?? 0) * 1000) / round.responses);
  const requests = measured.reduce((sum, round) => sum + round.responses, 0);
  const totals = new Map<string, CommandUsage>();
  let mainMs = 0;
  let sysMs = 0;
  for (const round of measured) {
    mainMs += round.redis?.cpuMainMs ?? 0;
    sysMs += round.redis?.cpuMainSysMs ?? 0;
    for (const [name, usage] of Object.entries(round.redis?.commands ?? {})) {
      const total = totals.get(name) ?? { calls: 0, usec: 0 };
      totals.set(name, { calls: total.calls + usage.calls, usec: total.usec + usage.usec });
    }
  }
  const commands: CommandCost[] = [...totals]
    .map(([name, usage]) => ({
      name,
      inScript: LIMITER_COMMANDS.has(name),
      callsPerRequest: usage.calls / requests,
      usecPerCall: usage.usec / usage.calls,
      usPerRequest: usage.usec / requests,
    }))
    .sort((a, b) => b.usPerRequest - a.usPerRequest);
  const sum = (pick: (command: CommandCost) => boolean, value: (command: CommandCost) => number): number =>
    commands.filter(pick).reduce((total, command) => total + value(command), 0);
  const isScript = (command: CommandCost): boolean => SCRIPT_COMMANDS.has(command.name);
  const scriptUs = sum(isScript, (command) => command.usPerRequest);
  const scriptCommandsUs = sum((command) => command.inScript, (command) => command.usPerRequest);
  const otherUs = sum((command) => !isScript(command) && !command.inScript, (command) => command.usPerRequest);
  const scriptCalls = sum(isScript, (command) => command.callsPerRequest);
  const cost = median(perRound);
  return {
    usPerRequest: spread(perRound),
    allThreadsUsPerRequest: median(measured.map((round) => ((round.redis?.cpuTotalMs ?? 0) * 1000) / round.responses)),
    kernelShare: mainMs > 0 ? sysMs / mainMs : 0,
    requestsPerCoreSecond: cost > 0 ? 1e6 / cost : Number.POSITIVE_INFINITY,
    scriptCallsPerRequest: scriptCalls,
    requestsPerScriptCall: scriptCalls > 0 ? 1 / scriptCalls : null,
    scriptUsPerRequest: scriptUs,
    scriptCommandsUsPerRequest: scriptCommandsUs,
    luaUsPerRequest: scriptUs - scriptCommandsUs,
    otherCommandsUsPerRequest: otherUs,
    outsideCommandsUsPerRequest: (mainMs * 1000) / requests - scriptUs - otherUs,
    commands,
  };
}

/** Redis's CPU per second while systems that do not use it were loaded: its own timers and idle clients. */
export function redisBackgroundMsPerSecond(rounds: readonly RoundResult[], durationSeconds: number): number | null {
  const measured = rounds.filter((round) => round.redis);
  if (measured.length === 0) return null;
  return measured.reduce((sum, round) => sum + (round.redis?.cpuMainMs ?? 0), 0) / (measured.length * durationSeconds);
}

function thousands(value: number): string {
  return value >= 10_000 ? `${Math.round(value / 1000)}k` : value.toFixed(0);
}

/** The Redis section of the printed report: one line per system, then the gateway's breakdown. */
export function formatRedisCosts(costs: ReadonlyMap<string, RedisCost>, focus: string, backgroundMsPerSecond: number | null): string {
  const lines = ['Redis (the bench’s own; main-thread CPU per answered request; a core’s capacity = 1 s / that cost):'];
  for (const [name, cost] of costs) {
    const calls = cost.requestsPerScriptCall;
    // The 429 path answers from the gateway's memory once a key is known to be refused.
    const perCall = calls === null ? '' : calls > 1000 ? ', almost no script calls' : `, ${calls.toFixed(1)} requests per script call`;
    lines.push(
      `  ${name.padEnd(24)} ${cost.usPerRequest.median.toFixed(1).padStart(6)} µs (${cost.usPerRequest.min.toFixed(1)}–${cost.usPerRequest.max.toFixed(1)})` +
        ` → ${thousands(cost.requestsPerCoreSecond).padStart(5)} req/s per Redis core; ${(cost.kernelShare * 100).toFixed(0)}% in the kernel${perCall}`,
    );
  }
  const gateway = costs.get(focus);
  if (gateway) {
    const verdict = gateway.usPerRequest.median <= REDIS_AIM_US ? 'met' : 'NOT met';
    lines.push(`  aim: at most ${REDIS_AIM_US} µs per admitted request (${thousands(1e6 / REDIS_AIM_US)} per Redis core): ${focus} ${gateway.usPerRequest.median.toFixed(1)} µs → ${verdict}`);
    lines.push(`  where ${focus}'s Redis time goes, per admitted request (all rounds):`);
    lines.push(`    script calls   ${gateway.scriptUsPerRequest.toFixed(2).padStart(6)} µs (${gateway.scriptCommandsUsPerRequest.toFixed(2)} in the commands it calls, ${gateway.luaUsPerRequest.toFixed(2)} in Lua itself)`);
    lines.push(`    other commands ${gateway.otherCommandsUsPerRequest.toFixed(2).padStart(6)} µs`);
    lines.push(`    outside commands (sockets, parsing, replies, event loop) ${gateway.outsideCommandsUsPerRequest.toFixed(2)} µs`);
    lines.push(`    ${'command'.padEnd(18)} ${'calls/request'.padStart(13)} ${'µs/call'.padStart(8)} ${'µs/request'.padStart(10)}`);
    for (const command of gateway.commands.slice(0, 12)) {
      const label = command.inScript ? `${command.name} (in script)` : command.name;
      lines.push(
        `    ${label.padEnd(18)} ${command.callsPerRequest.toFixed(3).padStart(13)} ${command.usecPerCall.toFixed(2).padStart(8)} ${command.usPerRequest.toFixed(2).padStart(10)}`,
      );
    }
  }
  if (backgroundMsPerSecond !== null) {
    lines.push(`  Redis used ${backgroundMsPerSecond.toFixed(1)} ms of CPU per second while systems that do not use it were loaded (its timers and idle clients; in the figures above too)`);
  }
  return lines.join('\n');
}
