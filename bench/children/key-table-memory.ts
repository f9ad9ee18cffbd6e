// What one gateway adds to the heap once it is ready, garbage collected on both sides: this process
// (run with --expose-gc) loads the gateway's modules, collects garbage, starts a gateway in-process
// on the Redis and prefix it is given, waits until its keys are loaded, collects again, and sends
// the difference to its parent with the load's wall and CPU time (in a process doing nothing
// else). Run once on an empty projection and once on the real one, the two differ by the keys.
import { loadConfig, startGateway } from '../../gateway/src/index.js';

export interface KeyTableMemoryMessage {
  readonly type: 'key-table-memory';
  readonly heapBytes: number;
  readonly loadMs: number;
  readonly loadCpuMs: number;
}

const collect = (globalThis as { gc?: () => void }).gc;
if (!collect) throw new Error('run with --expose-gc');
const heapAfterGc = (): number => {
  collect();
  return process.memoryUsage().heapUsed;
};

// Ports 0: any free ones; nothing is sent to this gateway.
const config = loadConfig({ ...process.env, GATEWAY_PORT: '0', GATEWAY_OPS_PORT: '0', LOG_LEVEL: 'warn' });
const before = heapAfterGc();
const cpuBefore = process.cpuUsage();
const started = performance.now();
const gateway = await startGateway({ config, host: '127.0.0.1' });
await gateway.ready;
const loadMs = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
const message: KeyTableMemoryMessage = { type: 'key-table-memory', heapBytes: heapAfterGc() - before, loadMs, loadCpuMs: (cpu.user + cpu.system) / 1000 };
process.send?.(message);
await gateway.close(0);
process.disconnect?.();
