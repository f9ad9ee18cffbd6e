// `npm start` with REDIS_URL and DATABASE_URL: the control plane (which applies the
// migrations at start, under an advisory lock) and one gateway as child processes against the real
// servers, plus the demo upstream in this process. Signals are passed on; if a child dies on its
// own, the others are stopped and the launcher exits non-zero.
import { renderBanner } from './banner.js';
import { serviceEntry, startChild, stopChildren, waitUntilReady, type Child } from './children.js';
import { setUpDemo, waitUntilGatewayKnows } from './demo-setup.js';
import { startDemoUpstream, type DemoUpstream } from './demo-upstream.js';
import { createLauncherLogger, reportStartFailure } from './log.js';
import { LaunchSettingsError, loadLaunchSettings, serviceCredentials, type LaunchSettings } from './settings.js';

type Env = Record<string, string | undefined>;

const READY_TIMEOUT_MS = 60_000;
/** The gateway drains for up to 30 s; a little more before SIGKILL. */
const STOP_GRACE_MS = 35_000;

export async function runMultiProcess(env: Env, startedAtMs: number): Promise<void> {
  let settings: LaunchSettings;
  try {
    settings = loadLaunchSettings(env);
  } catch (error) {
    if (error instanceof LaunchSettingsError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const log = createLauncherLogger(settings.controlPlane.logLevel);
  const children: Child[] = [];
  let upstream: DemoUpstream | null = null;
  let stopping = false;

  const stop = async (reason: string, exitCode: number) => {
    if (stopping) return;
    stopping = true;
    log.info({ reason }, 'stopping the services');
    await stopChildren(children, STOP_GRACE_MS);
    await upstream?.close();
    log.info('stopped');
    process.exit(exitCode);
  };
  process.on('SIGINT', () => void stop('SIGINT', 0));
  process.on('SIGTERM', () => void stop('SIGTERM', 0));

  let anyExited: () => void = () => {};
  const someChildExited = new Promise<void>((resolve) => {
    anyExited = resolve;
  });
  const launch = (name: string, service: string, childEnv: NodeJS.ProcessEnv) => {
    const child = startChild(name, serviceEntry(service), childEnv);
    children.push(child);
    void child.exited.then((code) => {
      anyExited();
      if (stopping) return;
      log.error({ child: name, exit: code }, 'a service exited; stopping the others');
      void stop(`${name} exited`, 1);
    });
  };

  try {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...serviceCredentials(settings) };
    if (settings.useDemoUpstream) {
      upstream = await startDemoUpstream();
      childEnv.GATEWAY_UPSTREAM = upstream.url;
    }
    const controlPlaneUrl = `http://127.0.0.1:${settings.controlPlane.port}`;
    // The control plane first: it migrates the database and builds the projection gateways load.
    launch('control-plane', 'control-plane/src/main', childEnv);
    await waitUntilReady(`${controlPlaneUrl}/readyz`, READY_TIMEOUT_MS, someChildExited);
    launch('gateway', 'gateway/src/main', childEnv);
    await waitUntilReady(`http://127.0.0.1:${settings.gateway.opsPort}/readyz`, READY_TIMEOUT_MS, someChildExited);
    const demo = await setUpDemo(controlPlaneUrl, settings.adminToken.token);
    if (!(await waitUntilGatewayKnows(`http://127.0.0.1:${settings.gateway.port}`, demo.key.secret, 5000))) {
      log.warn('the gateway does not know the demo key yet; the change feed may be slow');
    }
    if (stopping) return;
    process.stdout.write(
      `\n${renderBanner({
        mode: 'multi-process',
        dataDir: settings.dataDir,
        gatewayPort: settings.gateway.port,
        opsPort: settings.gateway.opsPort,
        controlPlanePort: settings.controlPlane.port,
        demoUpstreamUrl: upstream?.url ?? null,
        adminToken: settings.adminToken,
        adminUser: settings.adminUser,
        demo,
        startupMs: performance.now() - startedAtMs,
      })}\n`,
    );
  } catch (error) {
    if (stopping) return;
    reportStartFailure(log, error);
    await stop('start failure', 1);
  }
}
