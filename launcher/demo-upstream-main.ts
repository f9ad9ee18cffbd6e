// The demo echo upstream as a process of its own, for the compose stack (and its test), where the
// gateways reach it over the network instead of inside `npm start`. DEMO_UPSTREAM_PORT (default
// 3000) and DEMO_UPSTREAM_HOST (default 0.0.0.0) say where it listens; SIGTERM closes it.
import { startDemoUpstream } from './demo-upstream.js';

const portText = process.env.DEMO_UPSTREAM_PORT ?? '3000';
const port = Number(portText);
if (!/^\d{1,5}$/.test(portText) || port > 65535) {
  process.stderr.write('invalid configuration: DEMO_UPSTREAM_PORT must be a port number from 0 to 65535\n');
  process.exit(1);
}
const upstream = await startDemoUpstream({ host: process.env.DEMO_UPSTREAM_HOST ?? '0.0.0.0', port });
process.stdout.write(`${JSON.stringify({ level: 30, time: Date.now(), component: 'demo-upstream', url: upstream.url, msg: 'demo upstream listening' })}\n`);

const stop = () => void upstream.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
