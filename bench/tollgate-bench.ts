// The Tollgate part of a bench run: start the control plane and the gateways on a fresh database,
// create the bench's tiers and keys through REST (gateways learn them only from the feed), measure
// change propagation with a second gateway, then hand the load rounds the gateway's admitted and 429
// paths and the same admitted key on a gateway with logging off and on one with two workers.
import { randomBytes } from 'node:crypto';
import type { BenchConfig } from './config.js';
import { createLogWriterSwitch, type LogWriterSwitch } from './log-writer-switch.js';
import type { Placement } from './placement.js';
import { measurePropagation, type PropagationResult } from './propagation.js';
import type { RunningProcess } from './processes.js';
import { measureRequestLogLag, type LagResult } from './request-log-lag.js';
import { describeError, type SkippedSystem, type SystemUnderTest } from './systems.js';
import {
  prepareDatabase,
  stackMissingReason,
  startControlPlane,
  startGateway,
  waitForStatus,
  type GatewayProcess,
  type StackSettings,
} from './tollgate-stack.js';

export interface TollgateBench {
  readonly systems: SystemUnderTest[];
  readonly skipped: SkippedSystem[];
  readonly propagation: PropagationResult | null;
  readonly propagationSkipped: string | null;
  /** The ops URL of the gateway under load, or null when it did not start. */
  readonly opsUrl: string | null;
  /** Whether the request-log lag is to be measured (its settings and the systems asked for). */
  readonly lagWanted: boolean;
  /** Request-log lag under a steady load with the writer running (docs/performance.md, "Request log"). */
  measureLag(): Promise<LagResult | { skipped: string }>;
  stop(): Promise<void>;
}

const ADMITTED = { name: 'gateway-admitted', description: 'Tollgate gateway, key admitted (limit 1e9/1m), proxied to the upstream', expectedStatus: 200 };
const WRITER = {
  name: 'gateway-admitted-writer',
  description: 'the gateway-admitted path with the control plane’s request-log writer running during the round',
  expectedStatus: 200,
};
const NOLOG = { name: 'gateway-admitted-nolog', description: 'the gateway-admitted path on a gateway with GATEWAY_REQUEST_LOG=off', expectedStatus: 200 };
const WORKERS = {
  name: 'gateway-2-workers',
  description: 'the gateway-admitted path on a gateway with GATEWAY_WORKERS=2, allowed on every CPU (one core would cap two workers)',
  expectedStatus: 200,
};
const LIMITED = { name: 'gateway-429', description: 'Tollgate gateway, key over its limit (1/1d): every request refused with 429', expectedStatus: 429 };

function skipAll(reason: string, wanted: (name: string) => boolean): TollgateBench {
  return {
    systems: [],
    skipped: [ADMITTED, NOLOG, WORKERS, WRITER, LIMITED].filter((item) => wanted(item.name)).map((item) => ({ ...item, skipped: reason })),
    propagation: null,
    propagationSkipped: reason,
    opsUrl: null,
    lagWanted: false,
    measureLag: async () => ({ skipped: reason }),
    stop: async () => {},
  };
}

export async function setUpTollgate(
  config: BenchConfig,
  placement: Placement,
  settings: StackSettings,
  upstreamUrl: string,
  wanted: (name: string) => boolean,
  log: (line: string) => void,
): Promise<TollgateBench> {
  const missing = stackMissingReason();
  if (missing !== null) return skipAll(missing, wanted);

  const running: RunningProcess[] = [];
  const stop = async (): Promise<void> => {
    for (const item of running.reverse()) await item.stop();
    running.length = 0;
  };
  let gateway: GatewayProcess;
  let nolog: GatewayProcess | null = null;
  let workers: GatewayProcess | null = null;
  type Key = { id: string; secret: string };
  let keys: { admitted: Key; limited: Key; propagation: Key; lag: Key };
  let controlPlane: Awaited<ReturnType<typeof startControlPlane>>;
  let databaseUrl: string;
  try {
    log('tollgate: recreating the bench database and starting the control plane');
    databaseUrl = await prepareDatabase(settings);
    controlPlane = await startControlPlane(settings, databaseUrl, randomBytes(24).toString('hex'));
    running.push(controlPlane.process);
    log('tollgate: starting the gateway under test');
    gateway = await startGateway(settings, upstreamUrl, placement.systemCpu);
    running.push(gateway.process);
    const { admin } = controlPlane;
    await admin.createTier('bench-open', [{ window: '1m', limit: 1_000_000_000 }]);
    await admin.createTier('bench-exhausted', [{ window: '1d', limit: 1 }]);
    keys = {
      admitted: await admin.createKey('bench-admitted', 'bench-open'),
      limited: await admin.createKey('bench-limited', 'bench-exhausted'),
      propagation: await admin.createKey('bench-propagation', 'bench-open'),
      // The lag measurement's own key, so its rows are told apart from the rounds'.
      lag: await admin.createKey('bench-lag', 'bench-open'),
    };
    // The first request with the limited key uses its only unit; from then on it is refused.
    await waitForStatus(`${gateway.url}/`, keys.admitted.secret, 200);
    await waitForStatus(`${gateway.url}/`, keys.limited.secret, 429);
    await waitForStatus(`${gateway.url}/`, keys.lag.secret, 200);
    if (wanted(NOLOG.name)) {
      log('tollgate: starting a gateway with GATEWAY_REQUEST_LOG=off on the same CPU');
      nolog = await startGateway(settings, upstreamUrl, placement.systemCpu, { extraEnv: { GATEWAY_REQUEST_LOG: 'off' } });
      running.push(nolog.process);
      await waitForStatus(`${nolog.url}/`, keys.admitted.secret, 200);
    }
    if (wanted(WORKERS.name)) {
      log('tollgate: starting a gateway with GATEWAY_WORKERS=2 on every CPU');
      workers = await startGateway(settings, upstreamUrl, placement.allCpus, { extraEnv: { GATEWAY_WORKERS: '2' } });
      running.push(workers.process);
      await waitForStatus(`${workers.url}/`, keys.admitted.secret, 200);
    }
  } catch (error) {
    await stop();
    return skipAll(`tollgate set-up failed: ${describeError(error)}`, wanted);
  }

  let propagation: PropagationResult | null = null;
  let propagationSkipped: string | null = null;
  if (config.propagationChanges === 0 || !wanted('propagation')) {
    propagationSkipped = 'disabled by settings';
  } else {
    try {
      log('tollgate: starting a second gateway and measuring change propagation');
      const second = await startGateway(settings, upstreamUrl, '');
      running.push(second.process);
      for (const url of [gateway.url, second.url]) await waitForStatus(`${url}/`, keys.propagation.secret, 200);
      propagation = await measurePropagation(controlPlane.admin, [gateway.url, second.url], keys.propagation, config.propagationChanges);
      await second.process.stop();
      running.splice(running.indexOf(second.process), 1);
    } catch (error) {
      propagationSkipped = `propagation failed: ${describeError(error)}`;
    }
  }

  // The control plane is off the request path; freezing it keeps its request-log writer from
  // competing with the gateway for CPU during the load rounds (gateways keep enforcing without it),
  // except in the gateway-admitted-writer rounds, which resume it (docs/performance.md, "Request log").
  const writer: LogWriterSwitch = createLogWriterSwitch(controlPlane.process, settings.redisUrl, settings.redisPrefix, log);
  if (!config.keepControlPlane) await writer.pause();

  const systems: SystemUnderTest[] = [];
  const admittedOn = (target: GatewayProcess) => ({
    url: `${target.url}/`,
    headers: { 'x-api-key': keys.admitted.secret },
    pid: target.process.child.pid,
    usesRedis: true,
  });
  const admittedPath = admittedOn(gateway);
  // gateway-admitted runs right after logging off and right before two workers in each round, so
  // the per-round ratios against it share the most noise.
  if (nolog !== null) systems.push({ ...NOLOG, ...admittedOn(nolog) });
  if (wanted(ADMITTED.name)) systems.push({ ...ADMITTED, ...admittedPath });
  if (workers !== null) systems.push({ ...WORKERS, ...admittedOn(workers) });
  if (wanted(WRITER.name)) {
    const hooks = config.keepControlPlane ? {} : { beforeRound: () => writer.resume(), afterRound: () => writer.pause() };
    systems.push({ ...WRITER, ...admittedPath, ...hooks });
  }
  if (wanted(LIMITED.name)) systems.push({ ...LIMITED, ...admittedPath, headers: { 'x-api-key': keys.limited.secret } });

  const lagWanted = config.lagDurationSeconds > 0 && wanted('request-log-lag');
  const measureLag = async (): Promise<LagResult | { skipped: string }> => {
    if (!lagWanted) return { skipped: 'disabled by settings' };
    try {
      await writer.resume();
      return await measureRequestLogLag({
        gatewayUrl: `${gateway.url}/`,
        apiKey: keys.lag.secret,
        keyId: keys.lag.id,
        databaseUrl,
        ratePerSecond: config.lagRate,
        durationSeconds: config.lagDurationSeconds,
        pollMs: 50,
        settleMs: 60_000,
      });
    } catch (error) {
      return { skipped: `lag measurement failed: ${describeError(error)}` };
    }
  };
  const stopAll = async (): Promise<void> => {
    await writer.close();
    await stop();
  };
  return { systems, skipped: [], propagation, propagationSkipped, opsUrl: gateway.opsUrl, lagWanted, measureLag, stop: stopAll };
}
