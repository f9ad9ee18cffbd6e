// What a round costs the bench's Redis: its CPU time (INFO cpu) and the calls and time of each
// command (INFO commandstats), read before and after the round on one connection of the bench's own.
// Redis runs every command on one thread, so its main thread's CPU per admitted request says how many
// admitted requests one Redis core can serve for the whole fleet; commandstats says where it goes.
import { Redis } from 'ioredis';

export interface CommandUsage {
  readonly calls: number;
  /** Time inside the command, as Redis measures it (wall clock around its execution). */
  readonly usec: number;
}

/** Counters at one moment, or (from usageBetween) what one round added to them. */
export interface RedisUsage {
  /** used_cpu_user_main_thread + used_cpu_sys_main_thread: the thread that runs every command. */
  readonly cpuMainMs: number;
  /** used_cpu_sys_main_thread: the kernel's part of it (sockets; also softirq work for other
   * processes' packets that the kernel charges to whatever runs on the core at the time). */
  readonly cpuMainSysMs: number;
  /** used_cpu_user + used_cpu_sys: every thread of the server. */
  readonly cpuTotalMs: number;
  readonly commands: Readonly<Record<string, CommandUsage>>;
}

/** The bench's own INFO calls are not part of any system's cost. */
const OWN_COMMANDS = new Set(['info']);

function infoNumber(info: string, name: string): number | null {
  const match = new RegExp(`^${name}:(\\S+)`, 'm').exec(info);
  return match ? Number(match[1]) : null;
}

/** INFO cpu and commandstats in one reply. */
export function parseRedisInfo(info: string): RedisUsage {
  const user = infoNumber(info, 'used_cpu_user') ?? Number.NaN;
  const sys = infoNumber(info, 'used_cpu_sys') ?? Number.NaN;
  // Redis before 6.2 has no main-thread fields; with I/O threads off the totals are the same thing.
  const mainUser = infoNumber(info, 'used_cpu_user_main_thread') ?? user;
  const mainSys = infoNumber(info, 'used_cpu_sys_main_thread') ?? sys;
  const commands: Record<string, CommandUsage> = {};
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    const name = match[1] as string;
    if (!OWN_COMMANDS.has(name)) commands[name] = { calls: Number(match[2]), usec: Number(match[3]) };
  }
  return { cpuMainMs: (mainUser + mainSys) * 1000, cpuMainSysMs: mainSys * 1000, cpuTotalMs: (user + sys) * 1000, commands };
}

/** What happened between two readings; commands that did not run are left out. */
export function usageBetween(before: RedisUsage, after: RedisUsage): RedisUsage {
  const commands: Record<string, CommandUsage> = {};
  for (const [name, now] of Object.entries(after.commands)) {
    const then = before.commands[name] ?? { calls: 0, usec: 0 };
    if (now.calls > then.calls) commands[name] = { calls: now.calls - then.calls, usec: now.usec - then.usec };
  }
  return {
    cpuMainMs: after.cpuMainMs - before.cpuMainMs,
    cpuMainSysMs: after.cpuMainSysMs - before.cpuMainSysMs,
    cpuTotalMs: after.cpuTotalMs - before.cpuTotalMs,
    commands,
  };
}

export interface RedisMeter {
  read(): Promise<RedisUsage>;
  close(): void;
}

export function createRedisMeter(url: string): RedisMeter {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  return {
    // Two sections, two calls: INFO takes several section names only from Redis 7 on.
    read: async () => parseRedisInfo((await Promise.all([client.info('cpu'), client.info('commandstats')])).join('\n')),
    close: () => client.disconnect(),
  };
}
