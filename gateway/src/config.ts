// Environment → frozen gateway configuration. Every setting is validated with zod at start; the
// first problem becomes one line naming the variable, and main.ts exits with it.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { redisKeyPrefixSchema } from '../../contracts/redis-keys.js';
import { algorithmSchema, limitsSchema, ROUTE_NAME_PATTERN, timezoneSchema, toWindowLimits } from '../../contracts/limits.js';
import { redisNodesSchema, type RedisNode } from '../../contracts/redis-connection.js';
import { TrustedProxies, trustedProxiesSchema } from '../../contracts/trusted-proxies.js';
import type { RouteConfig } from './proxy/routes.js';

export const FAILURE_MODES = ['open', 'closed', 'local'] as const;
export type FailureMode = (typeof FAILURE_MODES)[number];
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const ON_OFF = ['on', 'off'] as const;

export type { RouteConfig };

export interface GatewayConfig {
  readonly redisUrl: string;
  /** Empty unless REDIS_CLUSTER_NODES is set. */
  readonly redisClusterNodes: readonly RedisNode[];
  readonly redisKeyPrefix: string;
  readonly port: number;
  readonly opsPort: number;
  readonly routes: readonly RouteConfig[];
  readonly failureMode: FailureMode;
  readonly upstreamTimeoutMs: number;
  readonly redisTimeoutMs: number;
  readonly logLevel: (typeof LOG_LEVELS)[number];
  /** false (GATEWAY_REQUEST_LOG=off): no request events are recorded; unset means on. */
  readonly requestLog?: boolean;
  /** Request events kept while Redis is away, and copies kept until the writers read them (default 100 000). */
  readonly requestLogBufferEvents?: number;
  /** GATEWAY_TRUSTED_PROXIES: the proxies whose X-Forwarded-* are believed; default none. */
  readonly trustedProxies?: TrustedProxies;
  /** GATEWAY_HOST: the public port's address; undefined: every interface. */
  readonly host?: string;
  /** GATEWAY_OPS_HOST: the ops port's address; default 127.0.0.1 (containers set 0.0.0.0). */
  readonly opsHost?: string;
  /** Longest pause between two chunks of an upstream's response body; 0: no limit. */
  readonly upstreamBodyTimeoutMs?: number;
  /** Longest pause between two chunks of a client's request body. */
  readonly clientBodyTimeoutMs?: number;
  /** Largest request body forwarded, in bytes; undefined: no limit. */
  readonly maxBodyBytes?: number;
  /** Routes limited by client address group IPv6 clients by this prefix length (default 64). */
  readonly clientIpv6PrefixBits?: number;
  /** How long a concurrency slot is held unless released or renewed (default 60 s). */
  readonly concurrencyLeaseMs?: number;
  /** GATEWAY_WORKERS: processes sharing the public port (1: this process serves it alone). */
  readonly workers?: number;
}

export class ConfigError extends Error {
  readonly code = 'INVALID_CONFIGURATION';
  constructor(
    readonly variable: string,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(`invalid configuration: ${variable} ${problem}`, options);
    this.name = 'ConfigError';
  }
}

const HTTP_URL = /^https?:\/\/[^/\s?#]+(\/[^\s?#]*)?$/;

const port = (fallback: number) =>
  z.coerce
    .number({ error: 'must be an integer from 0 to 65535' })
    .int('must be an integer from 0 to 65535')
    .min(0, 'must be an integer from 0 to 65535')
    .max(65535, 'must be an integer from 0 to 65535')
    .default(fallback);

const wholeNumber = (message: string) => z.coerce.number({ error: message }).int(message).min(0, message);

/** An interface to listen on: an address or a host name, no spaces. */
const listenHost = z.string().regex(/^[A-Za-z0-9.:%_-]{1,255}$/, 'must be an IP address or a host name');

const milliseconds = (fallback: number) =>
  z.coerce
    .number({ error: 'must be a positive whole number of milliseconds' })
    .int('must be a positive whole number of milliseconds')
    .min(1, 'must be a positive whole number of milliseconds')
    .default(fallback);

const WORKERS_PROBLEM = 'must be a whole number from 1 to 256, or auto';

const envSchema = z.object({
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/\S+$/, 'must be a redis:// or rediss:// URL')
    .default('redis://127.0.0.1:6379'),
  REDIS_CLUSTER_NODES: redisNodesSchema.optional(),
  REDIS_KEY_PREFIX: redisKeyPrefixSchema,
  GATEWAY_PORT: port(8080),
  GATEWAY_OPS_PORT: port(9080),
  GATEWAY_UPSTREAM: z.string().regex(HTTP_URL, 'must be an http:// or https:// URL without query').optional(),
  GATEWAY_ROUTES_FILE: z.string().optional(),
  GATEWAY_FAILURE_MODE: z.enum(FAILURE_MODES, { error: 'must be open, closed or local' }).default('open'),
  GATEWAY_UPSTREAM_TIMEOUT_MS: milliseconds(30_000),
  GATEWAY_REDIS_TIMEOUT_MS: milliseconds(100),
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  GATEWAY_REQUEST_LOG: z.enum(ON_OFF, { error: 'must be on or off' }).default('on'),
  GATEWAY_REQUEST_LOG_BUFFER: z.coerce
    .number({ error: 'must be a whole number of events, at least 500' })
    .int('must be a whole number of events, at least 500')
    .min(500, 'must be a whole number of events, at least 500')
    .default(100_000),
  GATEWAY_TRUSTED_PROXIES: trustedProxiesSchema.default(TrustedProxies.NONE),
  GATEWAY_HOST: listenHost.optional(),
  GATEWAY_OPS_HOST: listenHost.default('127.0.0.1'),
  GATEWAY_UPSTREAM_BODY_TIMEOUT_MS: wholeNumber('must be a whole number of milliseconds (0: no limit)').default(60_000),
  GATEWAY_CLIENT_BODY_TIMEOUT_MS: milliseconds(30_000),
  GATEWAY_MAX_BODY_BYTES: wholeNumber('must be a whole number of bytes').min(1, 'must be a whole number of bytes').optional(),
  GATEWAY_CLIENT_IPV6_PREFIX: z.coerce
    .number({ error: 'must be a prefix length from 1 to 128' })
    .int('must be a prefix length from 1 to 128')
    .min(1, 'must be a prefix length from 1 to 128')
    .max(128, 'must be a prefix length from 1 to 128')
    .default(64),
  GATEWAY_CONCURRENCY_LEASE_MS: z.coerce
    .number({ error: 'must be a whole number of milliseconds, at least 1000' })
    .int('must be a whole number of milliseconds, at least 1000')
    .min(1000, 'must be a whole number of milliseconds, at least 1000')
    .default(60_000),
  GATEWAY_WORKERS: z
    .union(
      [
        z.literal('auto'),
        z.coerce.number({ error: WORKERS_PROBLEM }).int(WORKERS_PROBLEM).min(1, WORKERS_PROBLEM).max(256, WORKERS_PROBLEM),
      ],
      { error: WORKERS_PROBLEM },
    )
    .default(1),
});

const routeSchema = z
  .strictObject({
    prefix: z.string().regex(/^\/[^\s?#]*$/, 'must start with / and hold no query'),
    upstream: z.string().regex(HTTP_URL, 'must be an http:// or https:// URL without query'),
    strip_prefix: z.boolean().default(false),
    cost: z.number().int('must be a whole number').min(1, 'must be at least 1').max(1_000_000).default(1),
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_./-]{0,63}$/, 'must be 1 to 64 letters, digits or _ . / -')
      .optional(),
    limits: limitsSchema.optional(),
    auth: z.enum(['key', 'none'], { error: 'must be key or none' }).default('key'),
    limit_by: z.enum(['client_ip'], { error: 'must be client_ip' }).optional(),
    algorithm: algorithmSchema.optional(),
    timezone: timezoneSchema.optional(),
  })
  .superRefine((route, ctx) => {
    if (route.limit_by !== undefined && route.auth !== 'none') ctx.addIssue({ code: 'custom', path: ['limit_by'], message: 'needs auth: none (a keyed route counts per key)' });
    if (route.auth === 'none' && route.limits !== undefined && route.limit_by === undefined) ctx.addIssue({ code: 'custom', path: ['limit_by'], message: 'must be client_ip for a keyless route with limits' });
    if (route.limit_by !== undefined && route.limits === undefined) ctx.addIssue({ code: 'custom', path: ['limits'], message: 'must be set to limit by client_ip' });
    if (route.algorithm !== undefined && route.auth !== 'none') ctx.addIssue({ code: 'custom', path: ['algorithm'], message: "is the key's tier's on a keyed route" });
    if (route.timezone !== undefined && route.auth !== 'none') ctx.addIssue({ code: 'custom', path: ['timezone'], message: "is the key's tier's on a keyed route" });
    const gcra = route.algorithm === 'gcra';
    (route.limits ?? []).forEach((limit, index) => {
      if (limit.burst !== undefined && !(gcra || route.auth === 'key')) ctx.addIssue({ code: 'custom', path: ['limits', index, 'burst'], message: 'applies to gcra only' });
    });
  });

const routesFileSchema = z.strictObject({ routes: z.array(routeSchema).min(1, 'must list at least one route') });

function issueLine(issue: z.core.$ZodIssue): { variable: string; problem: string } {
  return { variable: String(issue.path[0] ?? 'environment'), problem: issue.message };
}

function trimSlash(text: string): string {
  return text.endsWith('/') ? text.slice(0, -1) : text;
}

function readRoutesFile(path: string): RouteConfig[] {
  const variable = 'GATEWAY_ROUTES_FILE';
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new ConfigError(variable, `cannot be read: ${path} (${code})`, { cause: error });
  }
  let data: unknown;
  try {
    // YAML is a superset of JSON, so one parser reads both.
    data = parseYaml(text);
  } catch (error) {
    throw new ConfigError(variable, `is not valid JSON or YAML: ${path}`, { cause: error });
  }
  const parsed = routesFileSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'file';
    const problem =
      issue?.code === 'unrecognized_keys' ? `has unknown field ${issue.keys.join(', ')}` : (issue?.message ?? 'is invalid');
    throw new ConfigError(variable, `${where} ${problem}`);
  }
  const prefixes = new Set<string>();
  const names = new Set<string>();
  return parsed.data.routes.map((route, index) => {
    // `/api/` and `/api` would match the same requests; keep one spelling.
    const prefix = route.prefix.length > 1 ? trimSlash(route.prefix) : route.prefix;
    const name = route.name ?? prefix;
    if (prefixes.has(prefix)) throw new ConfigError(variable, `routes.${index}.prefix ${prefix} is listed twice`);
    if (names.has(name)) throw new ConfigError(variable, `routes.${index}.name ${name} is listed twice`);
    // Limits are named after their route in headers, bodies and Redis keys: a safe name is needed.
    if (route.limits !== undefined && !ROUTE_NAME_PATTERN.test(name)) {
      throw new ConfigError(variable, `routes.${index}.name is needed for a route with limits whose prefix ${prefix} is not 1 to 64 letters, digits or _ . / -`);
    }
    prefixes.add(prefix);
    names.add(name);
    return {
      name,
      prefix,
      upstream: trimSlash(route.upstream),
      stripPrefix: route.strip_prefix,
      cost: route.cost,
      limits: route.limits === undefined ? null : Object.freeze(toWindowLimits(route.limits, name).map((limit) => Object.freeze(limit))),
      auth: route.auth,
      limitBy: route.limit_by ?? null,
      // A keyed route's limits count as the key's tier says; only a keyless route has its own.
      ...(route.auth === 'none' ? { algorithm: route.algorithm ?? 'sliding_window', timezone: route.timezone ?? 'UTC' } : {}),
    };
  });
}

/** Throws ConfigError (one line naming the variable) on the first invalid setting. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  // An empty value (`VAR=` in .env) means unset, as with most tools.
  const present: Record<string, string> = {};
  for (const name of Object.keys(envSchema.shape)) {
    const value = env[name];
    if (value !== undefined && value.trim() !== '') present[name] = value.trim();
  }
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const { variable, problem } = first ? issueLine(first) : { variable: 'environment', problem: 'is invalid' };
    throw new ConfigError(variable, problem);
  }
  const settings = parsed.data;

  if (settings.GATEWAY_UPSTREAM !== undefined && settings.GATEWAY_ROUTES_FILE !== undefined) {
    throw new ConfigError('GATEWAY_UPSTREAM', 'and GATEWAY_ROUTES_FILE are both set; set only one');
  }
  let routes: RouteConfig[];
  if (settings.GATEWAY_ROUTES_FILE !== undefined) {
    routes = readRoutesFile(settings.GATEWAY_ROUTES_FILE);
  } else if (settings.GATEWAY_UPSTREAM !== undefined) {
    routes = [{ name: 'default', prefix: '/', upstream: trimSlash(settings.GATEWAY_UPSTREAM), stripPrefix: false, cost: 1 }];
  } else {
    throw new ConfigError('GATEWAY_UPSTREAM', 'or GATEWAY_ROUTES_FILE must be set');
  }

  return Object.freeze({
    redisUrl: settings.REDIS_URL,
    redisClusterNodes: Object.freeze(settings.REDIS_CLUSTER_NODES ?? []),
    redisKeyPrefix: settings.REDIS_KEY_PREFIX,
    port: settings.GATEWAY_PORT,
    opsPort: settings.GATEWAY_OPS_PORT,
    routes: Object.freeze(routes.map((route) => Object.freeze(route))),
    failureMode: settings.GATEWAY_FAILURE_MODE,
    upstreamTimeoutMs: settings.GATEWAY_UPSTREAM_TIMEOUT_MS,
    redisTimeoutMs: settings.GATEWAY_REDIS_TIMEOUT_MS,
    logLevel: settings.LOG_LEVEL,
    requestLog: settings.GATEWAY_REQUEST_LOG === 'on',
    requestLogBufferEvents: settings.GATEWAY_REQUEST_LOG_BUFFER,
    trustedProxies: settings.GATEWAY_TRUSTED_PROXIES,
    host: settings.GATEWAY_HOST,
    opsHost: settings.GATEWAY_OPS_HOST,
    upstreamBodyTimeoutMs: settings.GATEWAY_UPSTREAM_BODY_TIMEOUT_MS,
    clientBodyTimeoutMs: settings.GATEWAY_CLIENT_BODY_TIMEOUT_MS,
    maxBodyBytes: settings.GATEWAY_MAX_BODY_BYTES,
    clientIpv6PrefixBits: settings.GATEWAY_CLIENT_IPV6_PREFIX,
    concurrencyLeaseMs: settings.GATEWAY_CONCURRENCY_LEASE_MS,
    workers: settings.GATEWAY_WORKERS === 'auto' ? availableParallelism() : settings.GATEWAY_WORKERS,
  });
}
