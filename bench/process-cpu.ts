// CPU time a process has used (utime + stime of all its threads, /proc/<pid>/stat). On a busy
// machine req/s swings with the neighbours; CPU time per request mostly does not, so it is the
// steadier figure for what a feature (e.g. request logging) costs the system under test.
import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

/** CPU time of `pid` in ms, or null where /proc is not available or the process is gone. */
export function processCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may hold spaces: state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}
