// One worker process of a gateway run with GATEWAY_WORKERS: a whole gateway (its own Redis
// connections, key table and limiter store) on the public port it shares with its siblings, without
// an ops port or a heartbeat of its own. It answers its primary's questions (status, metrics) and
// drains on SIGTERM, which the primary sends; it ignores SIGINT (a terminal's Ctrl-C reaches every
// process of the group, and the primary decides), and drains too if the primary goes away.
import { AggregatorRegistry } from 'prom-client';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config.js';
import { startGateway } from '../index.js';
import { isToWorker, type ToPrimary } from './messages.js';

export async function runWorker(config: GatewayConfig, logger: Logger): Promise<void> {
  let live = 1;
  const gateway = await startGateway({ config, logger, worker: { liveGateways: () => live } });
  // Answer prom-client's requests for this worker's metrics with the gateway's registry.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([gateway.registry]);

  process.on('message', (message: unknown) => {
    if (!isToWorker(message)) return;
    if (message.type === 'tollgate:fleet') {
      live = message.live;
      return;
    }
    const { ready, detail } = gateway.readiness();
    const reply: ToPrimary = { type: 'tollgate:status', id: message.id, status: { ready, detail, applied: gateway.applied() } };
    process.send?.(reply);
  });

  let stopping = false;
  const stop = async (reason: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, 'worker draining');
    await gateway.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => {});
  process.on('disconnect', () => void stop('primary gone'));
}
