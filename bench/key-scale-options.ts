// Settings of `npm run bench:keys`: command-line flags first, then the environment, then defaults
// sized for a small 2-core machine (100k keys, 2 gateways).
import { BenchConfigError } from './config.js';

export interface KeyScaleOptions {
  readonly keys: number;
  /** Gateways started together, one fleet after the other: [2] or [2, 6]. */
  readonly fleets: readonly number[];
  /** Key changes timed per fleet. */
  readonly changes: number;
  readonly database: string;
}

function flag(args: readonly string[], name: string): string | undefined {
  const prefix = `--${name}=`;
  return args.find((arg) => arg.startsWith(prefix))?.slice(prefix.length);
}

function count(text: string, what: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) throw new BenchConfigError(`${what}: must be an integer from ${min} to ${max}, got "${text}"`);
  return value;
}

export function parseKeyScaleOptions(args: readonly string[], env: NodeJS.ProcessEnv): KeyScaleOptions {
  const unknown = args.filter((arg) => !/^--(keys|gateways|changes)=/.test(arg));
  if (unknown.length > 0) throw new BenchConfigError(`unknown argument ${unknown[0]} (use --keys=N --gateways=2,6 --changes=N)`);
  const keys = flag(args, 'keys') ?? env.KEY_SCALE_KEYS ?? '100000';
  const fleets = flag(args, 'gateways') ?? env.KEY_SCALE_GATEWAYS ?? '2';
  const changes = flag(args, 'changes') ?? env.KEY_SCALE_CHANGES ?? '100';
  return {
    keys: count(keys, '--keys (KEY_SCALE_KEYS)', 1, 10_000_000),
    fleets: fleets.split(',').map((item) => count(item.trim(), '--gateways (KEY_SCALE_GATEWAYS)', 1, 16)),
    changes: count(changes, '--changes (KEY_SCALE_CHANGES)', 2, 10_000),
    database: env.BENCH_KEYS_DATABASE || 'tollgate_bench_keys',
  };
}
