// Turns the control plane's request-log writer on and off between load rounds (docs/performance.md,
// "Request log"). The control plane is frozen with SIGSTOP rather than stopped, so resuming costs nothing;
// before freezing it, and after resuming it, the bench waits until the writer has consumed the whole
// stream, so a round with the writer running pays for exactly its own events and a round without it
// pays for none.
import { Redis } from 'ioredis';
import { requestEventStream } from '../contracts/redis-keys.js';
import type { RunningProcess } from './processes.js';

const GROUP = 'log-writer';

export interface LogWriterSwitch {
  /** Resumes the control plane and waits until the stream is consumed (the backlog of frozen rounds). */
  resume(): Promise<void>;
  /** Waits until the stream is consumed, then freezes the control plane. */
  pause(): Promise<void>;
  close(): Promise<void>;
}

/** XINFO replies as a flat [name, value, …] list. */
function field(reply: unknown, name: string): unknown {
  if (!Array.isArray(reply)) return undefined;
  for (let index = 0; index + 1 < reply.length; index += 2) {
    if (reply[index] === name) return reply[index + 1];
  }
  return undefined;
}

export function createLogWriterSwitch(controlPlane: RunningProcess, redisUrl: string, prefix: string, log: (line: string) => void): LogWriterSwitch {
  const redis = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 2 });
  redis.on('error', () => {});
  const stream = requestEventStream(prefix);
  let frozen = false;

  async function consumed(): Promise<boolean> {
    const info: unknown = await redis.xinfo('STREAM', stream).catch(() => null);
    if (info === null) return true;
    const lastId = field(info, 'last-generated-id');
    const groups: unknown = await redis.xinfo('GROUPS', stream);
    const group = Array.isArray(groups) ? groups.find((entry) => field(entry, 'name') === GROUP) : undefined;
    if (group === undefined) return false;
    return field(group, 'last-delivered-id') === lastId && Number(field(group, 'pending')) === 0;
  }

  async function drain(timeoutMs = 120_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await consumed()) return true;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    log(`request log: the writer did not consume the stream within ${timeoutMs} ms`);
    return false;
  }

  const signal = (name: 'SIGSTOP' | 'SIGCONT'): void => {
    if (controlPlane.child.exitCode === null && controlPlane.child.signalCode === null) controlPlane.child.kill(name);
  };

  return {
    async resume() {
      if (frozen) signal('SIGCONT');
      frozen = false;
      await drain();
    },
    async pause() {
      if (!frozen) await drain();
      signal('SIGSTOP');
      frozen = true;
    },
    async close() {
      // A frozen process cannot act on SIGTERM: thaw it so it can be stopped.
      if (frozen) signal('SIGCONT');
      frozen = false;
      redis.disconnect();
    },
  };
}
