// `npm run start:gateway`: one production gateway. Reads the settings (a bad one stops it with one
// line naming the variable), applies the runtime tweaks, starts the gateway and drains it on SIGTERM
// or SIGINT (in-flight requests get up to 30 s), then exits 0. With GATEWAY_WORKERS above 1 this
// process is the primary of that many workers (workers/primary.ts), each of which runs this file too.
import cluster from 'node:cluster';
import { existsSync } from 'node:fs';
import { applyRuntimeTweaks, ConfigError, loadConfig, startGateway, type GatewayConfig } from './index.js';
import { runPrimary } from './workers/primary.js';
import { runWorker } from './workers/worker.js';
import { componentLogger, createLogger } from './log.js';

function readConfig(): GatewayConfig {
  // Real environment variables win over .env (process.loadEnvFile never overwrites).
  if (existsSync('.env')) process.loadEnvFile('.env');
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

async function main(): Promise<void> {
  const config = readConfig();
  applyRuntimeTweaks();
  const logger = createLogger(config.logLevel);
  if (cluster.isWorker) {
    await runWorker(config, logger.child({ worker: Number(process.env.TOLLGATE_WORKER_INDEX ?? 0) }));
    return;
  }
  const log = componentLogger(logger, 'main');
  if ((config.workers ?? 1) > 1) {
    const primary = await runPrimary(config, componentLogger(logger, 'primary'));
    void primary.listening.then((port) =>
      log.info({ port, ops_port: primary.opsPort, workers: config.workers, routes: config.routes.length, failure_mode: config.failureMode }, 'gateway listening'),
    );
    const stop = (signal: string): void => {
      void primary.stop(signal).then(() => {
        log.info('stopped');
        process.exit(0);
      });
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    return;
  }
  // Signals are taken from the start: a gateway still loading its keys (its public port not yet
  // open) has nothing in flight and just exits.
  const running: { gateway?: Awaited<ReturnType<typeof startGateway>> } = {};
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'draining');
    await running.gateway?.close();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  const gateway = await startGateway({ config, logger });
  running.gateway = gateway;
  log.info(
    { port: gateway.port, ops_port: gateway.opsPort, routes: config.routes.length, failure_mode: config.failureMode },
    'gateway listening',
  );
  if (stopping) await gateway.close(0);
}

main().catch((error: unknown) => {
  process.stderr.write(`gateway failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
