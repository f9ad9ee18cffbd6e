// The primary of a gateway run with GATEWAY_WORKERS=N: it forks N workers that share the public
// port (node:cluster hands them connections in turn), and speaks for the group:
// - the ops port: one /metrics for all workers (counters and histograms summed, gauges merged as
//   each declares) plus the primary's own worker gauges, and /readyz, ready only when all N
//   workers are running and each says it is ready;
// - the heartbeat: one entry for the group, with the oldest configuration any worker has applied;
//   the count of live gateways it reads is passed on to the workers (local failure mode);
// - a worker that dies is replaced, at once the first time and with a growing delay (up to 30 s)
//   while it keeps dying young, so a crash loop does not spin a core;
// - SIGTERM or SIGINT drains every worker (each finishes its requests, up to 30 s), then exits 0.
// It handles no request itself and keeps no Redis connection but the heartbeat's.
import cluster, { type Worker } from 'node:cluster';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import type { Logger } from 'pino';
import { AggregatorRegistry, Counter, Gauge, Registry } from 'prom-client';
import { redisGatewayRegistry } from '../../../contracts/gateway-registry.js';
import { createRedisConnection } from '../../../contracts/redis-connection.js';
import type { GatewayConfig } from '../config.js';
import type { Readiness } from '../ops/readiness.js';
import { createOpsServer } from '../ops/server.js';
import { DRAIN_GRACE_MS } from '../server.js';
import { Heartbeat, type AppliedConfig } from '../fleet/heartbeat.js';
import { isToPrimary, type ToWorker, type WorkerStatus } from './messages.js';

/** How long a worker has to answer a status request. */
const STATUS_TIMEOUT_MS = 1_000;
/** A worker that lived less than this died young: its replacement waits. */
const YOUNG_MS = 10_000;
const MAX_RESTART_DELAY_MS = 30_000;

export interface RunningPrimary {
  readonly opsPort: number;
  /** Resolves with the public port once every worker listens. */
  readonly listening: Promise<number>;
  stop(signal: string): Promise<void>;
}

export async function runPrimary(config: GatewayConfig, logger: Logger): Promise<RunningPrimary> {
  const wanted = config.workers ?? 1;
  const workers = new Map<number, { worker: Worker; startedAt: number; youngDeaths: number }>();
  let stopping = false;

  const registry = new Registry();
  const running = new Gauge({ name: 'tollgate_gateway_workers', help: 'Worker processes running (GATEWAY_WORKERS).', registers: [registry] });
  const restarts = new Counter({ name: 'tollgate_gateway_worker_restarts_total', help: 'Worker processes replaced after they died.', registers: [registry] });
  const aggregator = new AggregatorRegistry();

  let listeningCount = 0;
  let announce: (port: number) => void = () => {};
  const listening = new Promise<number>((resolve) => (announce = resolve));

  const fork = (index: number, youngDeaths: number): void => {
    const worker = cluster.fork({ TOLLGATE_WORKER_INDEX: String(index) });
    workers.set(index, { worker, startedAt: Date.now(), youngDeaths });
    running.set(workers.size);
    worker.once('listening', (address: AddressInfo) => {
      listeningCount += 1;
      if (listeningCount === wanted) announce(address.port);
    });
    worker.once('exit', (code, signal) => {
      const entry = workers.get(index);
      if (entry?.worker === worker) workers.delete(index);
      running.set(workers.size);
      if (stopping) return;
      const young = entry !== undefined && Date.now() - entry.startedAt < YOUNG_MS;
      const deaths = young ? (entry?.youngDeaths ?? 0) + 1 : 0;
      const delay = deaths === 0 ? 0 : Math.min(MAX_RESTART_DELAY_MS, 500 * 2 ** deaths);
      logger.error({ worker: index, pid: worker.process.pid, code, signal, restart_in_ms: delay }, 'worker died; replacing it');
      restarts.inc();
      setTimeout(() => {
        if (!stopping) fork(index, deaths);
      }, delay).unref();
    });
  };
  for (let index = 0; index < wanted; index += 1) fork(index, 0);

  // Status requests: each worker answers with its readiness and the configuration it applied.
  let serial = 0;
  const waiting = new Map<number, (status: WorkerStatus) => void>();
  cluster.on('message', (_worker, message: unknown) => {
    if (isToPrimary(message)) waiting.get(message.id)?.(message.status);
  });
  const askOne = (worker: Worker): Promise<WorkerStatus | null> =>
    new Promise((resolve) => {
      if (!worker.isConnected()) {
        resolve(null);
        return;
      }
      serial += 1;
      const id = serial;
      const timer = setTimeout(() => {
        waiting.delete(id);
        resolve(null);
      }, STATUS_TIMEOUT_MS);
      waiting.set(id, (status) => {
        clearTimeout(timer);
        waiting.delete(id);
        resolve(status);
      });
      const request: ToWorker = { type: 'tollgate:status-request', id };
      worker.send(request);
    });
  const statuses = (): Promise<(WorkerStatus | null)[]> => Promise.all([...workers.values()].map(({ worker }) => askOne(worker)));

  const readiness = async (): Promise<Readiness> => {
    const all = await statuses();
    const answered = all.filter((status): status is WorkerStatus => status !== null);
    const ready = answered.filter((status) => status.ready).length;
    // The facts of a worker that is not ready say why; else any worker's (they share Redis).
    const shown = answered.find((status) => !status.ready) ?? answered[0];
    return { ready: ready === wanted, detail: { workers: wanted, workers_ready: ready, ...(shown?.detail ?? {}) } };
  };

  let lastApplied: AppliedConfig = { epoch: '', version: 0 };
  const applied = async (): Promise<AppliedConfig> => {
    const answered = (await statuses()).filter((status): status is WorkerStatus => status !== null);
    if (answered.length > 0) {
      lastApplied = answered.map((status) => status.applied).reduce((oldest, one) => (one.version < oldest.version ? one : oldest));
    }
    return lastApplied;
  };

  const redis = createRedisConnection({
    url: config.redisUrl,
    clusterNodes: config.redisClusterNodes,
    behaviour: 'patient',
    connectionName: 'tollgate-gateway-primary',
  });
  const heartbeat = new Heartbeat({
    registry: redisGatewayRegistry(redis, config.redisKeyPrefix),
    logger: logger.child({ component: 'heartbeat' }),
    workers: wanted,
    applied,
    onLive(live) {
      const message: ToWorker = { type: 'tollgate:fleet', live };
      for (const { worker } of workers.values()) if (worker.isConnected()) worker.send(message);
    },
  });
  heartbeat.start();

  const ops = createOpsServer({
    async metrics() {
      const [group, own] = await Promise.all([aggregator.clusterMetrics(), registry.metrics()]);
      return `${group}\n${own}`;
    },
    metricsContentType: registry.contentType,
    readiness,
  });
  ops.listen(config.opsPort, config.opsHost ?? '127.0.0.1');
  await once(ops, 'listening');

  let stopped: Promise<void> | null = null;
  const stop = (signal: string): Promise<void> =>
    (stopped ??= (async () => {
      stopping = true;
      logger.info({ signal, workers: workers.size }, 'draining workers');
      await heartbeat.close();
      const exits = [...workers.values()].map(({ worker }) => (worker.isDead() ? Promise.resolve() : once(worker, 'exit').then(() => {})));
      for (const { worker } of workers.values()) worker.process.kill('SIGTERM');
      // Each worker drains up to 30 s on its own; one that is stuck past that is killed.
      const deadline = setTimeout(() => {
        for (const { worker } of workers.values()) if (!worker.isDead()) worker.process.kill('SIGKILL');
      }, DRAIN_GRACE_MS + 5_000);
      await Promise.all(exits);
      clearTimeout(deadline);
      await new Promise<void>((resolve) => {
        ops.close(() => resolve());
        ops.closeAllConnections();
      });
      redis.disconnect();
    })());

  return { opsPort: (ops.address() as AddressInfo).port, listening, stop };
}
