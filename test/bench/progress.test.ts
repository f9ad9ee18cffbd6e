// The run's progress on stderr: the phase, the time since the start and an estimate of what is left.
import t from 'tap';
import { createProgress } from '../../bench/progress.js';

t.test('the time left is the load still planned, scaled by how long the finished phases took', async (t) => {
  let nowMs = 0;
  const lines: string[] = [];
  const progress = createProgress((line) => lines.push(line), () => nowMs);
  progress.plan(40);
  nowMs = 5_000;
  progress.step('round 1/2 · a · 10 s', 10);
  nowMs = 20_000; // the first 10 s phase took 15 s
  progress.step('round 1/2 · b · 10 s', 10);
  t.equal(lines[1], '[0:20 elapsed, about 0:45 left] round 1/2 · b · 10 s', '30 s of load left at 1.5× takes 45 s');
});

t.test('notes carry the elapsed time only', async (t) => {
  let nowMs = 0;
  const lines: string[] = [];
  const progress = createProgress((line) => lines.push(line), () => nowMs);
  nowMs = 61_000;
  progress.note('set-up: starting the gateway');
  t.same(lines, ['[1:01 elapsed] set-up: starting the gateway']);
});
