// The single-machine mode: control plane, gateway and request-log writer in one process, on PGlite
// and the in-memory implementations of the three infrastructure seams. Each piece is the production
// code, started through the two services' entry modules; only the wiring differs:
//   limiter store   the gateway's in-memory store, which the control plane also reads (usage)
//   change feed     the control plane's in-process feed, followed by the gateway like Redis
//   request events  the gateway hands batches straight to the control plane's request-log insert
import type { Logger } from 'pino';
import { startControlPlane, type Config as ControlPlaneConfig } from '../control-plane/src/index.js';
import { MemoryStore, memoryLimiterScripts, startGateway, type GatewayConfig } from '../gateway/src/index.js';

export interface EmbeddedOptions {
  readonly dataDir: string;
  readonly controlPlane: ControlPlaneConfig;
  readonly gateway: GatewayConfig;
  /** For the launcher's own lines (`service: launcher`). */
  readonly launcherLogger: Logger;
}

export interface EmbeddedSystem {
  readonly gatewayPort: number;
  readonly opsPort: number;
  readonly controlPlanePort: number;
  /** Gateway drain first (its last events still reach request_log), then the control plane. */
  close(): Promise<void>;
}

export async function startEmbedded(options: EmbeddedOptions): Promise<EmbeddedSystem> {
  const store = new MemoryStore();
  const controlPlane = await startControlPlane({
    config: options.controlPlane,
    inProcess: { dataDir: options.dataDir, limiter: memoryLimiterScripts(store) },
  });
  options.launcherLogger.info({ applied: controlPlane.migrations.applied }, 'embedded database ready');
  const { feed, deliverRequestEvents, gateways } = controlPlane;
  if (feed === undefined || deliverRequestEvents === undefined) throw new Error('the control plane did not start in process');
  let gateway: Awaited<ReturnType<typeof startGateway>>;
  try {
    gateway = await startGateway({ config: options.gateway, inProcess: { store, feed, deliverRequestEvents, gateways } });
    await gateway.ready;
  } catch (error) {
    // A port in use: release what is open so the process can exit with one clear line.
    await controlPlane.close(0);
    throw error;
  }
  return {
    gatewayPort: gateway.port,
    opsPort: gateway.opsPort,
    controlPlanePort: controlPlane.port,
    async close() {
      await gateway.close();
      await controlPlane.close();
    },
  };
}
