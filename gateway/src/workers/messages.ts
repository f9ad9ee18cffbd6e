// What a gateway's primary and its worker processes (GATEWAY_WORKERS) say to each other over the
// cluster's IPC channel. prom-client's own metrics messages share the channel; ours are told apart
// by their `tollgate:` type.
import type { AppliedConfig } from '../fleet/heartbeat.js';

/** A worker's state, as its primary asks for it (readiness, heartbeat). */
export interface WorkerStatus {
  readonly ready: boolean;
  /** /readyz's fields besides `status`. */
  readonly detail: Readonly<Record<string, unknown>>;
  readonly applied: AppliedConfig;
}

export type ToWorker =
  | { readonly type: 'tollgate:status-request'; readonly id: number }
  /** Live gateways at the primary's last heartbeat (local failure mode's shares). */
  | { readonly type: 'tollgate:fleet'; readonly live: number };

export type ToPrimary = { readonly type: 'tollgate:status'; readonly id: number; readonly status: WorkerStatus };

export function isToWorker(message: unknown): message is ToWorker {
  const type = (message as { type?: unknown } | null)?.type;
  return type === 'tollgate:status-request' || type === 'tollgate:fleet';
}

export function isToPrimary(message: unknown): message is ToPrimary {
  return (message as { type?: unknown } | null)?.type === 'tollgate:status';
}
