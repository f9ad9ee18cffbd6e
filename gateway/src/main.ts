// `npm run start:gateway`: one production gateway process. Reads the settings (a bad one stops it
// with one line naming the variable), applies the runtime tweaks, starts the gateway and drains it
// on SIGTERM or SIGINT (in-flight requests get up to 30 s), then exits 0.
import { existsSync } from 'node:fs';
import { applyRuntimeTweaks, ConfigError, loadConfig, startGateway, type GatewayConfig } from './index.js';
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
  const log = componentLogger(logger, 'main');
  const gateway = await startGateway({ config, logger });
  log.info(
    { port: gateway.port, ops_port: gateway.opsPort, routes: config.routes.length, failure_mode: config.failureMode },
    'gateway listening',
  );

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'draining');
    await gateway.close();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`gateway failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
