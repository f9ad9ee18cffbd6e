// Environment → frozen Config. A `.env` file in the working directory is honoured; variables set
// in the real environment win over it. Bad settings become one ConfigError naming the variable.
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { parseDurationSeconds } from '../../contracts/limits.js';
import { redisKeyPrefixSchema } from '../../contracts/redis-keys.js';
import { redisNodesSchema, type RedisNode } from '../../contracts/redis-connection.js';
import { TrustedProxies, trustedProxiesSchema } from '../../contracts/trusted-proxies.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  readonly databaseUrl: string;
  readonly redisUrl: string;
  /** Empty unless REDIS_CLUSTER_NODES is set (then Redis Cluster is used). */
  readonly redisClusterNodes: readonly RedisNode[];
  readonly redisKeyPrefix: string;
  readonly port: number;
  /** CONTROL_PLANE_HOST: the address to listen on; default 127.0.0.1 (containers set 0.0.0.0). */
  readonly host: string;
  readonly adminToken: string;
  readonly logLevel: LogLevel;
  readonly requestLogRetentionDays: number;
  /** The admin UI user created at start when there is none yet (ADMIN_USER/ADMIN_PASSWORD). */
  readonly firstAdmin: { readonly username: string; readonly password: string } | null;
  readonly adminSession: { readonly idleMs: number; readonly maxAgeMs: number };
  readonly trustedProxies: TrustedProxies;
}

export const DEFAULT_ADMIN_USER = 'admin';

export class ConfigError extends Error {
  readonly code = 'invalid_configuration';
  constructor(readonly variable: string, readonly problem: string) {
    super(`invalid configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

const urlWithProtocols = (protocols: readonly string[]) =>
  z.string().refine((text) => {
    try {
      return protocols.includes(new URL(text).protocol);
    } catch {
      return false;
    }
  }, `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`);

const sessionDuration = (fallback: string) =>
  z
    .string()
    .refine((text) => (parseDurationSeconds(text) ?? 0) >= 60, 'must be a duration of at least 1m, such as 30m, 12h or 7d')
    .default(fallback)
    .transform((text) => (parseDurationSeconds(text) ?? 0) * 1000);

const envSchema = z.object({
  DATABASE_URL: urlWithProtocols(['postgres:', 'postgresql:']).default('postgres://postgres@127.0.0.1:5432/tollgate'),
  REDIS_URL: urlWithProtocols(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'),
  REDIS_CLUSTER_NODES: redisNodesSchema.optional(),
  REDIS_KEY_PREFIX: redisKeyPrefixSchema,
  CONTROL_PLANE_PORT: z
    .string()
    .regex(/^\d{1,5}$/, 'must be a port number from 0 to 65535')
    .transform(Number)
    .refine((port) => port <= 65535, 'must be a port number from 0 to 65535')
    .default(8081),
  ADMIN_TOKEN: z.string({ error: 'is required' }).min(16, 'must be at least 16 characters'),
  ADMIN_USER: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/, 'must be 1 to 64 letters, digits or _ . @ - (starting with a letter or digit)')
    .optional(),
  ADMIN_PASSWORD: z.string().max(1024, 'must be at most 1024 characters').optional(),
  ADMIN_SESSION_IDLE_TIMEOUT: sessionDuration('30m'),
  ADMIN_SESSION_MAX_AGE: sessionDuration('12h'),
  CONTROL_PLANE_TRUSTED_PROXIES: trustedProxiesSchema.optional(),
  CONTROL_PLANE_HOST: z.string().regex(/^[A-Za-z0-9.:%_-]{1,255}$/, 'must be an IP address or a host name').default('127.0.0.1'),
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  REQUEST_LOG_RETENTION_DAYS: z
    .string()
    .regex(/^[1-9]\d{0,4}$/, 'must be a whole number of days, at least 1')
    .transform(Number)
    .default(30),
});

/** Reads `.env` from the working directory into process.env without overriding real variables. */
export function loadDotEnv(path = '.env'): void {
  if (existsSync(path)) process.loadEnvFile(path);
}

function parseEnv<S extends z.ZodObject>(schema: S, env: Record<string, string | undefined>): z.output<S> {
  // Empty strings count as unset, as in most twelve-factor tools.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = String(issue?.path[0] ?? 'environment');
    throw new ConfigError(variable, issue?.message ?? 'is invalid');
  }
  return parsed.data;
}

/** `npm run migrate` needs only the database. */
export function loadMigrateConfig(env: Record<string, string | undefined>): { readonly databaseUrl: string } {
  return Object.freeze({ databaseUrl: parseEnv(envSchema.pick({ DATABASE_URL: true }), env).DATABASE_URL });
}

export function loadConfig(env: Record<string, string | undefined>): Config {
  const value = parseEnv(envSchema, env);
  if (value.ADMIN_USER !== undefined && value.ADMIN_PASSWORD === undefined) {
    throw new ConfigError('ADMIN_PASSWORD', 'is required when ADMIN_USER is set');
  }
  return Object.freeze({
    databaseUrl: value.DATABASE_URL,
    redisUrl: value.REDIS_URL,
    redisClusterNodes: Object.freeze(value.REDIS_CLUSTER_NODES ?? []),
    redisKeyPrefix: value.REDIS_KEY_PREFIX,
    port: value.CONTROL_PLANE_PORT,
    host: value.CONTROL_PLANE_HOST,
    adminToken: value.ADMIN_TOKEN,
    logLevel: value.LOG_LEVEL,
    requestLogRetentionDays: value.REQUEST_LOG_RETENTION_DAYS,
    firstAdmin:
      value.ADMIN_PASSWORD === undefined
        ? null
        : Object.freeze({ username: value.ADMIN_USER ?? DEFAULT_ADMIN_USER, password: value.ADMIN_PASSWORD }),
    adminSession: Object.freeze({ idleMs: value.ADMIN_SESSION_IDLE_TIMEOUT, maxAgeMs: value.ADMIN_SESSION_MAX_AGE }),
    trustedProxies: value.CONTROL_PLANE_TRUSTED_PROXIES ?? TrustedProxies.NONE,
  });
}
