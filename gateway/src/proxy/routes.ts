// Longest-prefix routing over the configured routes. A prefix matches at a path-segment
// boundary, so `/orders` matches `/orders`, `/orders/1` and `/orders?x` but not `/ordersx`.
import type { Algorithm, WindowLimit } from '../../../contracts/limits.js';

/** One route as configured (GATEWAY_UPSTREAM, or an entry of the routes file). */
export interface RouteConfig {
  /** Metrics label: the configured name, else the prefix (a closed set either way). */
  readonly name: string;
  readonly prefix: string;
  /** Origin plus an optional base path, without a trailing slash. */
  readonly upstream: string;
  readonly stripPrefix: boolean;
  readonly cost: number;
  /** The route's own limits (named `<route>:<window>`): per key on top of the key's, or per client address. */
  readonly limits?: readonly WindowLimit[] | null;
  /** `none`: requests need no key. */
  readonly auth?: 'key' | 'none';
  /** `client_ip`: a keyless route's limits count per client address. */
  readonly limitBy?: 'client_ip' | null;
  /** How a keyless route's limits count (a keyed route's count as the key's tier says). */
  readonly algorithm?: Algorithm;
  /** A keyless route's zone for day and month windows. */
  readonly timezone?: string;
}

export interface Route extends RouteConfig {
  /** `http://host:port` of the upstream (one connection pool each). */
  readonly origin: string;
  /** The upstream URL's path, prepended to every forwarded path ('' for none). */
  readonly basePath: string;
}

export interface Router {
  match(url: string): Route | undefined;
  readonly routes: readonly Route[];
}

function toRoute(config: RouteConfig): Route {
  const url = new URL(config.upstream);
  const basePath = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return Object.freeze({ ...config, origin: url.origin, basePath });
}

function matches(prefix: string, url: string): boolean {
  if (prefix === '/') return url.charCodeAt(0) === 47; // '/'
  if (!url.startsWith(prefix)) return false;
  const next = url.charCodeAt(prefix.length);
  // NaN: the URL ends with the prefix; 47 '/', 63 '?'
  return Number.isNaN(next) || next === 47 || next === 63;
}

export function createRouter(configs: readonly RouteConfig[]): Router {
  // Longest first, so the first match is the longest prefix.
  const routes = configs.map(toRoute).sort((a, b) => b.prefix.length - a.prefix.length);
  return {
    routes,
    match(url) {
      for (let i = 0; i < routes.length; i += 1) {
        const route = routes[i] as Route;
        if (matches(route.prefix, url)) return route;
      }
      return undefined;
    },
  };
}

/** The path (with query) the upstream receives for `url` on `route`. */
export function upstreamPath(route: Route, url: string): string {
  let path = url;
  if (route.stripPrefix && route.prefix !== '/') {
    path = url.slice(route.prefix.length);
    if (path === '' || path.charCodeAt(0) === 63) path = `/${path}`;
  }
  return route.basePath === '' ? path : route.basePath + path;
}
