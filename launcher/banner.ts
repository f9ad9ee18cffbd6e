// The plain-text banner `npm start` prints once everything listens: which mode, where
// each service is, the admin token, the demo tier and key, and three curl lines to try. Logs stay
// JSON; this is the one human-readable block on stdout.
import type { Limit } from '../contracts/limits.js';
import type { DemoSetup } from './demo-setup.js';
import type { AdminToken } from './admin-token.js';
import type { AdminUser } from './admin-user.js';

export interface BannerInput {
  readonly mode: 'embedded' | 'multi-process';
  readonly dataDir: string;
  readonly gatewayPort: number;
  readonly opsPort: number;
  readonly controlPlanePort: number;
  /** Set when the launcher started the demo echo upstream. */
  readonly demoUpstreamUrl: string | null;
  readonly adminToken: AdminToken;
  readonly adminUser: AdminUser;
  readonly demo: DemoSetup;
  readonly startupMs: number;
}

function describeLimits(limits: readonly Limit[]): string {
  return limits.map((limit) => `${limit.limit} per ${limit.window}`).join(', ');
}

export function renderBanner(input: BannerInput): string {
  const gateway = `http://127.0.0.1:${input.gatewayPort}`;
  const controlPlane = `http://127.0.0.1:${input.controlPlanePort}`;
  const { demo, adminToken, adminUser } = input;
  const keyHeader = `-H "X-API-Key: ${demo.key.secret}"`;
  const tightest = Math.min(...demo.tier.limits.map((limit) => limit.limit));
  const loopCount = tightest + 1;
  const loop = loopCount <= 10 ? Array.from({ length: loopCount }, (_, i) => i + 1).join(' ') : `$(seq ${loopCount})`;
  const tokenSource = adminToken.file === null
    ? '(from ADMIN_TOKEN)'
    : adminToken.generated
      ? `(generated now, kept in ${adminToken.file})`
      : `(kept in ${adminToken.file})`;
  const password =
    adminUser.file === null
      ? '(password from ADMIN_PASSWORD)'
      : `password ${adminUser.password}  ${adminUser.generated ? `(generated now, kept in ${adminUser.file})` : `(kept in ${adminUser.file})`}`;

  const lines =
    input.mode === 'embedded'
      ? [
          'Tollgate is running in single-machine mode: one process, no servers needed.',
          `  PostgreSQL is embedded (PGlite, data in ${input.dataDir}); the limiter, change feed and`,
          '  request-log transport are in memory. For production, set REDIS_URL and DATABASE_URL.',
        ]
      : [
          'Tollgate is running in multi-process mode: control plane and gateway as separate processes',
          '  on the Redis of REDIS_URL and the PostgreSQL of DATABASE_URL.',
        ];
  lines.push(
    '',
    `  gateway        ${gateway}  (ops: http://127.0.0.1:${input.opsPort}/metrics, /healthz, /readyz)`,
    `  control plane  ${controlPlane}/v1  (OpenAPI: ${controlPlane}/openapi.json, reference: ${controlPlane}/docs)`,
    `  admin UI       ${controlPlane}/admin`,
  );
  if (input.demoUpstreamUrl !== null) lines.push(`  upstream       ${input.demoUpstreamUrl}  (demo echo server)`);
  lines.push(
    '',
    `  admin token    ${adminToken.token}  ${tokenSource}`,
    `  admin user     ${adminUser.username}  ${password}`,
    `  demo tier      ${demo.tier.name}: ${describeLimits(demo.tier.limits)}${demo.tier.created ? '  (created now)' : ''}`,
    `  demo key       ${demo.key.id}  secret ${demo.key.secret}`,
    demo.key.created
      ? '                 (secrets are stored only hashed: the demo key is rotated at every start, so this'
      : '                 (rotated now: secrets are stored only hashed, so the demo key gets a new secret at',
    demo.key.created
      ? '                 secret stops working at the next start; keys you create are never touched)'
      : '                 every start and the previous one no longer works; keys you create are never touched)',
    '',
    'Try it:',
    `  curl -i ${keyHeader} ${gateway}/hello`,
    `  curl -s ${keyHeader} ${gateway}/_gateway/quota`,
    `  for i in ${loop}; do curl -s -o /dev/null -w '%{http_code}\\n' ${keyHeader} ${gateway}/hello; done`,
    `  (the last line answers 429 once the ${tightest} requests of the tightest window are used up)`,
    '',
    'Manage keys and tiers:',
    `  curl -H "Authorization: Bearer ${adminToken.token}" ${controlPlane}/v1/keys`,
    '',
    `Ready in ${(input.startupMs / 1000).toFixed(1)} s. Stop with Ctrl-C.`,
    '',
  );
  return lines.join('\n');
}
