// Steady load from autocannon, one instance per gateway, in which every request can be told apart:
// each carries an X-Forwarded-For address of its own (10.x.y.z, from one counter), which the gateway
// believes (GATEWAY_TRUSTED_PROXIES=127.0.0.1) and stores as the request-log row's client_ip. So
// every answer the client got can be matched with its row: none missing, none twice.
import autocannon, { type AutocannonInstance, type RequestParams } from 'autocannon';
import { performance } from 'node:perf_hooks';

export interface LoadKey {
  /** A name for the report (e.g. `open`, `tight`). */
  readonly label: string;
  readonly secret: string;
  /** Requests of this key per cycle of all keys' weights. */
  readonly weight: number;
}

export interface Answer {
  readonly gateway: number;
  readonly key: string;
  readonly path: string;
  readonly ip: string;
  readonly status: number;
  /** Epoch ms when it was sent and answered. */
  readonly sentMs: number;
  readonly answeredMs: number;
}

export interface LoadError {
  readonly gateway: number;
  /** ECONNREFUSED, ECONNRESET, …, or `timeout`. */
  readonly code: string;
  readonly atMs: number;
}

export interface SteadyLoadOptions {
  /** Base URLs of the gateways' public ports; one autocannon instance each. */
  readonly gateways: readonly string[];
  readonly keys: readonly LoadKey[];
  /** Paths taken in turn (one per route). */
  readonly paths: readonly string[];
  readonly ratePerGateway: number;
  readonly connectionsPerGateway?: number;
  /** autocannon gives up on a request after this long (and counts a timeout). */
  readonly timeoutSeconds: number;
}

export interface SteadyLoad {
  readonly answers: Answer[];
  readonly errors: LoadError[];
  /** Stops every instance and waits until they are done. */
  stop(): Promise<void>;
}

/** autocannon connections per gateway unless told otherwise. */
export const CONNECTIONS_PER_GATEWAY = 10;

let nextAddress = 1;

/** A client address used once: 10.0.0.1, 10.0.0.2, … */
function uniqueAddress(): string {
  const n = nextAddress;
  nextAddress += 1;
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}

interface InFlight {
  key: string;
  path: string;
  ip: string;
  sentMs: number;
  sentAt: number;
}

/** The keys in turn, each as often as its weight says. */
function keyCycle(keys: readonly LoadKey[]): LoadKey[] {
  return keys.flatMap((key) => Array.from({ length: key.weight }, () => key));
}

export function startSteadyLoad(options: SteadyLoadOptions): SteadyLoad {
  const answers: Answer[] = [];
  const errors: LoadError[] = [];
  const cycle = keyCycle(options.keys);
  let turn = 0;
  const instances: AutocannonInstance[] = options.gateways.map((url, gateway) => {
    const instance = autocannon({
      url,
      connections: options.connectionsPerGateway ?? CONNECTIONS_PER_GATEWAY,
      pipelining: 1,
      overallRate: options.ratePerGateway,
      // Long enough never to end by itself: stop() ends it.
      duration: 3600,
      timeout: options.timeoutSeconds,
      requests: [
        {
          // autocannon calls this just before writing each request, with its connection's context;
          // with pipelining 1 the next answer on that connection is this request's.
          setupRequest(request: RequestParams, context: Record<string, unknown>): RequestParams {
            const key = cycle[turn % cycle.length] as LoadKey;
            const path = options.paths[turn % options.paths.length] as string;
            turn += 1;
            const current: InFlight = { key: key.label, path, ip: uniqueAddress(), sentMs: Date.now(), sentAt: performance.now() };
            context.current = current;
            return { ...request, path, headers: { ...request.headers, 'x-api-key': key.secret, 'x-forwarded-for': current.ip } };
          },
          onResponse(status: number, _body: string, context: Record<string, unknown>): void {
            const current = context.current as InFlight | undefined;
            if (current === undefined) return;
            context.current = undefined;
            const elapsedMs = performance.now() - current.sentAt;
            answers.push({ gateway, key: current.key, path: current.path, ip: current.ip, status, sentMs: current.sentMs, answeredMs: current.sentMs + elapsedMs });
          },
        },
      ],
    });
    instance.on('reqError', (error: NodeJS.ErrnoException) => {
      errors.push({ gateway, code: error.code ?? (error.message === 'request timed out' ? 'timeout' : error.message), atMs: Date.now() });
    });
    return instance;
  });
  return {
    answers,
    errors,
    async stop() {
      for (const instance of instances) instance.stop();
      await Promise.all(instances.map((instance) => Promise.resolve(instance)));
    },
  };
}
