// CPU time of a system under test: utime + stime of all the threads of a process and of every
// process below it (/proc). A gateway with GATEWAY_WORKERS=N is a primary and N workers, and its
// cost is all of them. On a busy machine req/s swings with the neighbours; CPU time per request
// mostly does not, so it is the steadier figure for what a feature costs the system under test.
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

/** CPU time of `pid` alone (all its threads) in ms, or null where /proc is missing or it is gone. */
function ownCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may hold spaces: state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/** The live child processes of `pid`: each of its threads lists the children it started. */
export function childPids(pid: number): number[] {
  const children: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      if (text) for (const child of text.split(' ')) children.push(Number(child));
    }
  } catch {
    // Gone, or no /proc: no children to add.
  }
  return children;
}

/**
 * CPU time of `pid` and all its descendants in ms, or null when `pid` itself cannot be read. A child
 * that exited during a round takes its time with it (the parent only gets it once it reaps it).
 */
export function processTreeCpuMs(pid: number): number | null {
  const own = ownCpuMs(pid);
  if (own === null) return null;
  let total = own;
  for (const child of childPids(pid)) total += processTreeCpuMs(child) ?? 0;
  return total;
}
