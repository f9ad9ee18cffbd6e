// Settings shared by both modes, checked before anything heavy starts: the data directory, the
// admin token and the two services' own configuration (their loaders name the bad variable).
import { ConfigError as ControlPlaneConfigError, loadConfig as loadControlPlaneConfig, type Config as ControlPlaneConfig } from '../control-plane/src/index.js';
import { ConfigError as GatewayConfigError, loadConfig as loadGatewayConfig, type GatewayConfig } from '../gateway/src/index.js';
import { resolveAdminToken, type AdminToken } from './admin-token.js';
import { resolveAdminUser, type AdminUser } from './admin-user.js';
import { DataDirError, ensureDataDir, resolveDataDir } from './data-dir.js';

type Env = Record<string, string | undefined>;

export interface LaunchSettings {
  readonly dataDir: string;
  readonly adminToken: AdminToken;
  readonly adminUser: AdminUser;
  readonly controlPlane: ControlPlaneConfig;
  readonly gateway: GatewayConfig;
  /** True when neither GATEWAY_UPSTREAM nor GATEWAY_ROUTES_FILE is set: the demo echo server is used. */
  readonly useDemoUpstream: boolean;
}

/** A placeholder upstream for validating the gateway's settings before the demo upstream's port is known. */
const PLACEHOLDER_UPSTREAM = 'http://127.0.0.1:9';

export function needsDemoUpstream(env: Env): boolean {
  const set = (name: string) => (env[name]?.trim() ?? '') !== '';
  return !set('GATEWAY_UPSTREAM') && !set('GATEWAY_ROUTES_FILE');
}

/** Throws LaunchSettingsError (one line, naming the variable) for a bad setting. */
export function loadLaunchSettings(env: Env): LaunchSettings {
  try {
    const dataDir = resolveDataDir(env);
    ensureDataDir(dataDir);
    const adminToken = resolveAdminToken(env, dataDir);
    const adminUser = resolveAdminUser(env, dataDir);
    const useDemoUpstream = needsDemoUpstream(env);
    const controlPlane = loadControlPlaneConfig({ ...env, ...serviceCredentials({ adminToken, adminUser }) });
    const gateway = loadGatewayConfig(useDemoUpstream ? { ...env, GATEWAY_UPSTREAM: PLACEHOLDER_UPSTREAM } : env);
    return { dataDir, adminToken, adminUser, controlPlane, gateway, useDemoUpstream };
  } catch (error) {
    if (error instanceof ControlPlaneConfigError || error instanceof GatewayConfigError || error instanceof DataDirError) {
      throw new LaunchSettingsError(error.message, { cause: error });
    }
    throw error;
  }
}

/** The credentials the control plane reads from its environment, as the launcher resolved them. */
export function serviceCredentials(settings: Pick<LaunchSettings, 'adminToken' | 'adminUser'>): Record<string, string> {
  return {
    ADMIN_TOKEN: settings.adminToken.token,
    ADMIN_USER: settings.adminUser.username,
    ADMIN_PASSWORD: settings.adminUser.password,
  };
}

/** The gateway's settings again, with the demo upstream (now listening) as GATEWAY_UPSTREAM. */
export function gatewayConfigWithUpstream(env: Env, upstreamUrl: string): GatewayConfig {
  return loadGatewayConfig({ ...env, GATEWAY_UPSTREAM: upstreamUrl });
}

export class LaunchSettingsError extends Error {
  readonly code = 'invalid_configuration';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LaunchSettingsError';
  }
}
