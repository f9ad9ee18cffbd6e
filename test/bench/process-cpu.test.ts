// The CPU time of a system under test counts its child processes: a gateway with workers is a
// primary and its workers.
import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { childPids, processTreeCpuMs } from '../../bench/process-cpu.js';

// A parent that idles and a child of it that spins, printing the child's pid.
const PARENT = `
const { spawn } = require('node:child_process');
const child = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
console.log(child.pid);
process.on('SIGTERM', () => { child.kill('SIGKILL'); process.exit(0); });
setInterval(() => {}, 1000);
`;

t.test('a process’s CPU time includes the CPU time of its children', async (t) => {
  const parent = spawn(process.execPath, ['-e', PARENT], { stdio: ['ignore', 'pipe', 'ignore'] });
  t.teardown(() => {
    parent.kill('SIGTERM');
  });
  const [chunk] = (await once(parent.stdout, 'data')) as [Buffer];
  const childPid = Number(chunk.toString().trim());
  t.same(childPids(parent.pid ?? 0), [childPid]);
  let childMs = 0;
  while (childMs < 100) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    childMs = processTreeCpuMs(childPid) ?? 0;
  }
  // Read after the child's own figure, the parent's tree has at least the child's time in it.
  t.ok((processTreeCpuMs(parent.pid ?? 0) ?? 0) >= childMs, `child ${childMs} ms`);
});

t.test('a process that is gone has no CPU time', async (t) => {
  const gone = spawn(process.execPath, ['-e', '0']);
  await once(gone, 'exit');
  t.equal(processTreeCpuMs(gone.pid ?? 0), null);
});
