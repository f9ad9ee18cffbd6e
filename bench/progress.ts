// Progress of a bench run on stderr: which phase runs, the time since the start and an estimate of
// the time left. The estimate is the load time still planned, scaled by how much longer than their
// load the finished phases took (starting processes, draining the request log, reading counters).

export interface Progress {
  /** Plans `seconds` more of load (the rounds, once the systems are known). */
  plan(seconds: number): void;
  /** A phase with `seconds` of load starts now. */
  step(label: string, seconds: number): void;
  /** A line about the run that is not a phase (set-up, a round's result). */
  note(text: string): void;
}

function clock(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

export function createProgress(write: (line: string) => void, now: () => number = () => performance.now()): Progress {
  const startedAt = now();
  let plannedSeconds = 0;
  let doneSeconds = 0;
  let doneActualMs = 0;
  let current: { seconds: number; startedAt: number } | null = null;

  const finishCurrent = (at: number): void => {
    if (current === null) return;
    doneSeconds += current.seconds;
    doneActualMs += at - current.startedAt;
    current = null;
  };

  return {
    plan(seconds) {
      plannedSeconds += seconds;
    },
    step(label, seconds) {
      const at = now();
      finishCurrent(at);
      // Until a phase has finished, assume the overhead of the bench's quick runs: about a fifth.
      const overhead = doneSeconds > 0 ? doneActualMs / 1000 / doneSeconds : 1.2;
      const leftMs = Math.max(0, plannedSeconds - doneSeconds) * overhead * 1000;
      write(`[${clock(at - startedAt)} elapsed, about ${clock(leftMs)} left] ${label}`);
      current = { seconds, startedAt: at };
    },
    note(text) {
      write(`[${clock(now() - startedAt)} elapsed] ${text}`);
    },
  };
}
