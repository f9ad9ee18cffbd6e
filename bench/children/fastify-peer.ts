// The Node peer: what a team would assemble from the fastify ecosystem — @fastify/http-proxy plus
// @fastify/rate-limit on its Redis store, keyed by the API key header, with a limit so high that
// every request is admitted (the admitted path, comparable with the gateway's).
import Fastify from 'fastify';
import httpProxy from '@fastify/http-proxy';
import rateLimit from '@fastify/rate-limit';
import { Redis } from 'ioredis';
import { listenAndAnnounce, upstreamUrlFromEnv } from './lifecycle.js';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
  connectTimeout: 500,
  maxRetriesPerRequest: 1,
});
const nameSpace = `${process.env.BENCH_REDIS_PREFIX ?? 'bench'}:fastify-peer:`;

const app = Fastify({ logger: false });
// Registered before the proxy so its onRoute hook covers the proxied routes.
await app.register(rateLimit, {
  global: true,
  max: Number(process.env.BENCH_PEER_MAX ?? 1_000_000_000),
  timeWindow: 60_000,
  redis,
  nameSpace,
  keyGenerator: (request) => {
    const key = request.headers['x-api-key'];
    return typeof key === 'string' ? key : request.ip;
  },
});
await app.register(httpProxy, {
  upstream: upstreamUrlFromEnv().origin,
  undici: { connections: 128, pipelining: 1 },
});
await app.ready();

listenAndAnnounce(app.server, async () => {
  await app.close();
  redis.disconnect();
});
