// The test-time rendering of the stack's own configuration files: compose hostnames become
// 127.0.0.1 ports, and nothing else changes unless a caller asks for it (Prometheus's intervals).
// Every name to map must be found, and every upstream or target left unmapped is an error, so a
// host added to a file without a test mapping fails loudly instead of being skipped.
import { parse, stringify } from 'yaml';

/** `host:port` as written in the file → `127.0.0.1:port` to use instead. */
export type AddressMap = Readonly<Record<string, string>>;

const UPSTREAM_BLOCK = /^\s*upstream\s+\S+\s*\{[^}]*\}/gm;
const UPSTREAM_SERVER = /^(\s*server\s+)([^\s;]+)/gm;

/**
 * nginx.conf: the `server` addresses of every upstream block, the `listen` addresses and, where a
 * test needs its own, file paths (the access log).
 */
export function renderNginxConfig(text: string, upstreams: AddressMap, listens: AddressMap, paths: AddressMap = {}): string {
  const seen = new Set<string>();
  let rendered = text.replace(UPSTREAM_BLOCK, (block) =>
    block.replace(UPSTREAM_SERVER, (_match, head: string, address: string) => {
      const mapped = upstreams[address];
      if (mapped === undefined) throw new Error(`nginx upstream server ${address} has no test address`);
      seen.add(address);
      return `${head}${mapped}`;
    }),
  );
  for (const address of Object.keys(upstreams)) {
    if (!seen.has(address)) throw new Error(`nginx.conf has no upstream server ${address}`);
  }
  for (const [listen, mapped] of Object.entries(listens)) {
    const pattern = new RegExp(`^(\\s*listen\\s+)${listen.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?=[\\s;])`, 'm');
    if (!pattern.test(rendered)) throw new Error(`no "listen ${listen}" to map`);
    rendered = rendered.replace(pattern, `$1${mapped}`);
  }
  for (const [path, mapped] of Object.entries(paths)) {
    if (!rendered.includes(` ${path} `)) throw new Error(`no path ${path} to map`);
    rendered = rendered.replaceAll(` ${path} `, ` ${mapped} `);
  }
  return rendered;
}

interface ScrapeConfig {
  job_name: string;
  static_configs?: { targets: string[]; labels?: Record<string, string> }[];
  [key: string]: unknown;
}

interface PrometheusConfig {
  global?: Record<string, unknown>;
  rule_files?: string[];
  scrape_configs?: ScrapeConfig[];
  [key: string]: unknown;
}

export interface PrometheusRenderOptions {
  readonly targets: AddressMap;
  /** Shorter scrape and evaluation intervals, so a test sees rates within seconds. */
  readonly interval?: string;
}

/** prometheus.yml: every static target mapped (the rule_files globs stay relative to the file). */
export function renderPrometheusConfig(text: string, options: PrometheusRenderOptions): string {
  const config = parse(text) as PrometheusConfig;
  const seen = new Set<string>();
  for (const job of config.scrape_configs ?? []) {
    for (const group of job.static_configs ?? []) {
      group.targets = group.targets.map((target) => {
        const mapped = options.targets[target];
        if (mapped === undefined) throw new Error(`prometheus target ${target} (job ${job.job_name}) has no test address`);
        seen.add(target);
        return mapped;
      });
    }
  }
  for (const target of Object.keys(options.targets)) {
    if (!seen.has(target)) throw new Error(`prometheus.yml has no target ${target}`);
  }
  if (options.interval !== undefined) {
    config.global = {
      ...config.global,
      scrape_interval: options.interval,
      scrape_timeout: options.interval,
      evaluation_interval: options.interval,
    };
  }
  return stringify(config);
}
