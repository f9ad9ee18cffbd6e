// `npm run start:control-plane`: the control plane against PostgreSQL and Redis. Settings are checked
// before anything heavy loads, so a bad setting costs one line and exit 1, fast. SIGTERM or SIGINT
// finish in-flight requests, stop the writers and exit 0.
import { ConfigError, loadConfig, loadDotEnv, type Config } from './config.js';

function readConfig(): Config {
  try {
    loadDotEnv();
    return loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      // One line naming the variable, nothing else.
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

const config = readConfig();
const { startControlPlane } = await import('./index.js');
const { createLogger } = await import('./log.js');
const logger = createLogger(config.logLevel);
let controlPlane: Awaited<ReturnType<typeof startControlPlane>>;
try {
  controlPlane = await startControlPlane({ config, logger });
} catch (error) {
  logger.fatal({ err: error }, 'control plane failed to start');
  process.exit(1);
}
logger.info({ port: controlPlane.port }, 'control plane listening');

let stopping = false;
const stop = async (signal: string): Promise<void> => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  await controlPlane.close();
  logger.info('stopped');
  process.exit(0);
};
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
