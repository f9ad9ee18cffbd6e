// One fault under steady load: load through both gateways, a quiet baseline, the fault (the test's
// function breaks something and returns when it is repaired), then load for a while after; then the
// request log is reconciled with what the clients were answered. The figures are printed as tap
// comments and checked by checkPhase, one sentence-named test per property.
import type { Test } from 'tap';
import { settledLedger, type RowLedger } from './ledger.js';
import { REDIS_TIMEOUT_MS, UPSTREAM_TIMEOUT_MS, type CreatedKey, type Stack } from './stack.js';
import { CONNECTIONS_PER_GATEWAY, startSteadyLoad, type Answer } from './steady-load.js';
import type { FaultyUpstream } from './upstream.js';

/** When the fault began, and when the broken part was back (running, answering, resumed). */
export interface FaultWindow {
  readonly startMs: number;
  readonly endMs: number;
}

/** The longest any request may wait: both budgets a request can spend, plus room for a busy machine. */
export const LATENCY_BOUND_MS = UPSTREAM_TIMEOUT_MS + REDIS_TIMEOUT_MS + 2500;
/** Rows arrive within 30 s of the request-log writer running again (and its database answering). */
export const ROWS_DEADLINE_MS = 30_000;
const REQUEST_LOG_DROPPED = 'tollgate_gateway_request_log_dropped_total';

export interface PhaseOptions {
  readonly name: string;
  readonly stack: Stack;
  readonly upstreams: readonly FaultyUpstream[];
  readonly paths: readonly string[];
  /** A key with a limit nobody reaches, and one whose exact limit the load runs into. */
  readonly open: CreatedKey;
  readonly tight: CreatedKey;
  readonly tightLimit: number;
  /** Times Redis starts empty during the phase, plus one: each start may admit the limit again. */
  readonly limitEpochs?: number;
  readonly ratePerGateway?: number;
  readonly baselineMs?: number;
  readonly afterMs?: number;
  fault(): Promise<FaultWindow>;
}

export type StatusCounts = Record<string, number>;

export interface PhaseResult {
  readonly name: string;
  readonly window: FaultWindow;
  /** Answered before the fault began. */
  readonly before: StatusCounts;
  /** Answered after it began, to requests sent before it ended. */
  readonly during: StatusCounts;
  /** Sent after it ended. */
  readonly after: StatusCounts;
  /** From the end of the fault to the last answer (to a request sent after it) that was not normal. */
  readonly recoveryMs: number;
  /** Normal answers per gateway in the last second of the load. */
  readonly lastSecondNormal: readonly number[];
  readonly lastSecondAbnormal: number;
  readonly maxLatencyMs: number;
  readonly errors: StatusCounts;
  readonly ledger: RowLedger;
  readonly rowsWaitedMs: number;
  /** From the end of the fault until the last row arrived. */
  readonly rowsCompleteAfterFaultMs: number;
  readonly droppedEvents: number;
  /** Tight-key requests admitted as the clients saw it (200, 502, 504) and as the upstreams did. */
  readonly tightAdmitted: number;
  readonly tightReceived: number;
  readonly tightAllowed: number;
  readonly rss: readonly { name: string; beforeBytes: number; afterBytes: number }[];
  readonly crashes: readonly string[];
  /** autocannon connections in all: the requests that can be in flight when the load stops. */
  readonly connections: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function countStatuses(answers: readonly Answer[]): StatusCounts {
  const counts: StatusCounts = {};
  for (const answer of answers) counts[answer.status] = (counts[answer.status] ?? 0) + 1;
  return counts;
}

/** What the key gets when nothing is broken: the open key 200, the tight key 200 or 429. */
function isNormal(answer: Answer): boolean {
  return answer.status === 200 || (answer.key === 'tight' && answer.status === 429);
}

function rssOfStack(stack: Stack): { name: string; bytes: number }[] {
  return [stack.controlPlane, ...stack.gateways.map((gateway) => gateway.service)].map((service) => ({ name: service.name, bytes: service.rssBytes() }));
}

export async function runPhase(options: PhaseOptions): Promise<PhaseResult> {
  const { stack } = options;
  const crashesBefore = stack.crashes.length;
  const phaseStartMs = Date.now();
  const rssBefore = rssOfStack(stack);
  const droppedBefore = await stack.gatewayMetric(REQUEST_LOG_DROPPED);
  const load = startSteadyLoad({
    gateways: stack.gateways.map((gateway) => gateway.url),
    keys: [
      { label: 'open', secret: options.open.secret, weight: 4 },
      { label: 'tight', secret: options.tight.secret, weight: 1 },
    ],
    paths: options.paths,
    ratePerGateway: options.ratePerGateway ?? 100,
    timeoutSeconds: 10,
  });
  let window: FaultWindow;
  try {
    await sleep(options.baselineMs ?? 3000);
    window = await options.fault();
    await sleep(options.afterMs ?? 5000);
  } finally {
    await load.stop();
  }
  const loadStoppedMs = Date.now();
  const answers = load.answers;
  const { ledger, waitedMs } = await settledLedger(answers, () => stack.rowsByAddress(phaseStartMs), ROWS_DEADLINE_MS);
  const droppedAfter = await stack.gatewayMetric(REQUEST_LOG_DROPPED);
  const rssAfter = rssOfStack(stack);

  const abnormalAfter = answers.filter((answer) => answer.sentMs >= window.endMs && !isNormal(answer));
  const recoveryMs = abnormalAfter.reduce((latest, answer) => Math.max(latest, answer.answeredMs - window.endMs), 0);
  const lastAnswerMs = answers.reduce((latest, answer) => Math.max(latest, answer.answeredMs), 0);
  const lastSecond = answers.filter((answer) => answer.answeredMs > lastAnswerMs - 1000);
  const tight = answers.filter((answer) => answer.key === 'tight');
  return {
    name: options.name,
    window,
    before: countStatuses(answers.filter((answer) => answer.answeredMs < window.startMs)),
    // Requests in flight when the fault began count as answered during it.
    during: countStatuses(answers.filter((answer) => answer.answeredMs >= window.startMs && answer.sentMs < window.endMs)),
    after: countStatuses(answers.filter((answer) => answer.sentMs >= window.endMs)),
    recoveryMs,
    lastSecondNormal: stack.gateways.map((_, index) => lastSecond.filter((answer) => answer.gateway === index && isNormal(answer)).length),
    lastSecondAbnormal: lastSecond.filter((answer) => !isNormal(answer)).length,
    maxLatencyMs: answers.reduce((longest, answer) => Math.max(longest, answer.answeredMs - answer.sentMs), 0),
    errors: load.errors.reduce<StatusCounts>((counts, error) => ({ ...counts, [error.code]: (counts[error.code] ?? 0) + 1 }), {}),
    ledger,
    rowsWaitedMs: waitedMs,
    rowsCompleteAfterFaultMs: loadStoppedMs + waitedMs - window.endMs,
    // A gateway restarted during the phase starts its counter again: count what the new one says.
    droppedEvents: Math.max(0, droppedAfter - droppedBefore),
    tightAdmitted: tight.filter((answer) => answer.status === 200 || answer.status === 502 || answer.status === 504).length,
    tightReceived: options.upstreams.reduce((sum, upstream) => sum + upstream.received(options.tight.id), 0),
    tightAllowed: options.tightLimit * (options.limitEpochs ?? 1),
    rss: rssBefore.map((before, index) => ({ name: before.name, beforeBytes: before.bytes, afterBytes: rssAfter[index]?.bytes ?? 0 })),
    crashes: stack.crashes.slice(crashesBefore),
    connections: CONNECTIONS_PER_GATEWAY * stack.gateways.length,
  };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const megabytes = (bytes: number) => `${(bytes / 1048576).toFixed(0)} MB`;
const counts = (value: StatusCounts) => JSON.stringify(value);

/** The phase's figures as tap comments, to be copied into notes. */
export function printPhase(t: Test, result: PhaseResult): void {
  t.comment(`${result.name}: fault lasted ${seconds(result.window.endMs - result.window.startMs)}`);
  t.comment(`  status codes before ${counts(result.before)}, during ${counts(result.during)}, after ${counts(result.after)}`);
  t.comment(`  recovery ${seconds(result.recoveryMs)} after the fault ended; longest wait ${seconds(result.maxLatencyMs)}; client errors ${counts(result.errors)}`);
  const { ledger } = result;
  t.comment(
    `  request log: ${ledger.answered} answered, ${ledger.rows} rows, lost ${ledger.lost}, doubled ${ledger.doubled}, ` +
      `rows of unanswered requests ${ledger.rowsWithoutAnswer}, all in ${seconds(result.rowsCompleteAfterFaultMs)} after the fault ended, events dropped ${result.droppedEvents}`,
  );
  t.comment(`  tight key: admitted ${result.tightAdmitted} (upstream saw ${result.tightReceived}), allowed ${result.tightAllowed}`);
  t.comment(`  RSS ${result.rss.map((entry) => `${entry.name} ${megabytes(entry.beforeBytes)} → ${megabytes(entry.afterBytes)}`).join(', ')}`);
}

export interface PhaseExpectations {
  /** Status codes documented for this fault, besides 200 and 429. */
  readonly faultStatuses: readonly number[];
  /** The documented time to serve normally again after the fault ends. */
  readonly recoveryBoundMs: number;
  /** Connection errors the fault may cause the clients (a gateway's port closed while it restarts). */
  readonly clientErrors?: readonly string[];
}

/** One test per property of a fault, each named as the sentence it checks. */
export async function checkPhase(t: Test, result: PhaseResult, expect: PhaseExpectations): Promise<void> {
  const allowed = new Set([200, 429, ...expect.faultStatuses]);
  const undocumented = (statuses: StatusCounts) => Object.keys(statuses).filter((status) => !allowed.has(Number(status)));
  await t.test(`answers only ${[...allowed].join(', ')} during the fault and after it`, async (t) => {
    t.same(Object.keys(result.before).filter((status) => status !== '200' && status !== '429'), [], 'before: only 200 and 429');
    t.same(undocumented(result.during), [], 'during');
    t.same(undocumented(result.after), [], 'after');
  });
  await t.test(`no request waits longer than the upstream and Redis budgets allow (${LATENCY_BOUND_MS} ms)`, async (t) => {
    t.ok(result.maxLatencyMs <= LATENCY_BOUND_MS, `longest wait ${Math.round(result.maxLatencyMs)} ms`);
    t.equal(result.errors.timeout ?? 0, 0, 'no request timed out at the client');
    const unexpected = Object.keys(result.errors).filter((code) => code !== 'timeout' && !(expect.clientErrors ?? []).includes(code));
    t.same(unexpected, [], 'no connection error but those the fault explains');
  });
  await t.test(`serves normally again within ${expect.recoveryBoundMs / 1000} s of the fault ending, by itself`, async (t) => {
    t.ok(result.recoveryMs <= expect.recoveryBoundMs, `recovered ${Math.round(result.recoveryMs)} ms after the fault ended`);
    t.equal(result.lastSecondAbnormal, 0, 'the last second of load was answered normally');
    t.ok(
      result.lastSecondNormal.every((count) => count > 0),
      `every gateway answered in the last second (${result.lastSecondNormal.join(', ')})`,
    );
  });
  await t.test('every answered request has exactly one request-log row', async (t) => {
    t.equal(result.ledger.lost, 0, 'lost');
    t.equal(result.ledger.doubled, 0, 'doubled');
    t.ok(result.ledger.answered > 0, 'requests were answered');
    // A connection reset or refused carried no request the gateway took: its rows without an
    // answer are only those in flight when the load stopped.
    t.ok(result.ledger.rowsWithoutAnswer <= result.connections, `${result.ledger.rowsWithoutAnswer} rows of unanswered requests`);
    t.ok(result.rowsCompleteAfterFaultMs <= ROWS_DEADLINE_MS, `every row in ${Math.round(result.rowsCompleteAfterFaultMs)} ms of the fault ending`);
  });
  await t.test('the exact limit is never exceeded', async (t) => {
    t.ok(result.tightAdmitted <= result.tightAllowed, `admitted ${result.tightAdmitted} of ${result.tightAllowed}`);
    t.ok(result.tightReceived <= result.tightAllowed, `the upstream saw ${result.tightReceived}`);
    t.ok(result.tightAdmitted > 0, 'the key was admitted at all');
  });
  await t.test('no process crashes', async (t) => {
    t.same(result.crashes, []);
  });
}
