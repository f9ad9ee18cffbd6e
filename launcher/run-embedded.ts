// `npm start` in the single-machine mode: settings, the data-directory lock, the demo upstream, the
// embedded system, the demo tier and key, the banner, and signals (SIGINT/SIGTERM stop it cleanly,
// exit 0).
import { renderBanner } from './banner.js';
import { DataDirError, lockDataDir } from './data-dir.js';
import { setUpDemo, waitUntilGatewayKnows } from './demo-setup.js';
import { startDemoUpstream, type DemoUpstream } from './demo-upstream.js';
import { startEmbedded, type EmbeddedSystem } from './embedded.js';
import { createLauncherLogger, reportStartFailure } from './log.js';
import { gatewayConfigWithUpstream, LaunchSettingsError, loadLaunchSettings, type LaunchSettings } from './settings.js';
import { applyRuntimeTweaks } from '../gateway/src/index.js';

type Env = Record<string, string | undefined>;

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

export async function runEmbedded(env: Env, startedAtMs: number): Promise<void> {
  // The gateway runs in this process (gateway/src/runtime/).
  applyRuntimeTweaks();
  let settings: LaunchSettings;
  let unlock: () => void;
  try {
    settings = loadLaunchSettings(env);
    unlock = lockDataDir(settings.dataDir);
  } catch (error) {
    if (error instanceof LaunchSettingsError || error instanceof DataDirError) fail(error.message);
    throw error;
  }
  const log = createLauncherLogger(settings.controlPlane.logLevel);

  let upstream: DemoUpstream | null = null;
  // Pending while the system starts: a stop waits for it, because PGlite killed in the middle of
  // creating its files (the first run) would leave a data directory it cannot open again.
  let system: Promise<EmbeddedSystem> | null = null;
  let stopping = false;
  const stop = async (signal: string, exitCode: number) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    try {
      const started = await system?.catch(() => null);
      await started?.close();
      await upstream?.close();
    } catch (error) {
      log.error({ err: error }, 'shutdown failed');
      exitCode = 1;
    } finally {
      unlock();
    }
    log.info('stopped');
    process.exit(exitCode);
  };
  // Registered first: a Ctrl-C during the seconds PGlite takes to open still closes it cleanly.
  process.on('SIGINT', () => void stop('SIGINT', 0));
  process.on('SIGTERM', () => void stop('SIGTERM', 0));

  try {
    let gateway = settings.gateway;
    if (settings.useDemoUpstream) {
      upstream = await startDemoUpstream();
      gateway = gatewayConfigWithUpstream(env, upstream.url);
    }
    system = startEmbedded({ dataDir: settings.dataDir, controlPlane: settings.controlPlane, gateway, launcherLogger: log });
    const running = await system;
    if (stopping) return;
    const demo = await setUpDemo(`http://127.0.0.1:${running.controlPlanePort}`, settings.adminToken.token);
    if (!(await waitUntilGatewayKnows(`http://127.0.0.1:${running.gatewayPort}`, demo.key.secret, 5000))) {
      log.warn('the gateway does not know the demo key yet; the change feed may be slow');
    }
    if (stopping) return;
    process.stdout.write(
      `\n${renderBanner({
        mode: 'embedded',
        dataDir: settings.dataDir,
        gatewayPort: running.gatewayPort,
        opsPort: running.opsPort,
        controlPlanePort: running.controlPlanePort,
        demoUpstreamUrl: upstream?.url ?? null,
        adminToken: settings.adminToken,
        adminUser: settings.adminUser,
        demo,
        startupMs: performance.now() - startedAtMs,
      })}\n`,
    );
  } catch (error) {
    // Failures caused by a stop in progress are not start failures.
    if (stopping) return;
    reportStartFailure(log, error);
    await stop('start failure', 1);
  }
}
