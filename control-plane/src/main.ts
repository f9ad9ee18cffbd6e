// `npm run start:control-plane`. Settings are checked before anything heavy loads, so a bad setting
// costs one line and exit 1, fast.
import { ConfigError, loadConfig, loadDotEnv, type Config } from './config.js';

function readConfig(): Config {
  try {
    loadDotEnv();
    return loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      // One line naming the variable, nothing else (SPEC §1).
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

const config = readConfig();
const { runControlPlane } = await import('./run-control-plane.js');
await runControlPlane(config);
