// Matching what the clients were answered with what the request log holds, by client address (each
// request had its own, see steady-load.ts): an answered request without a row is lost, an address
// with two rows is doubled. Rows of requests the client gave up on (timed out, reset) are counted
// apart: the gateway may have answered them after all.
import type { Answer } from './steady-load.js';

export interface RowLedger {
  readonly answered: number;
  readonly rows: number;
  readonly lost: number;
  readonly doubled: number;
  /** Rows whose request got no answer the client saw. */
  readonly rowsWithoutAnswer: number;
}

export function reconcile(answers: readonly Answer[], rowsByAddress: ReadonlyMap<string, number>): RowLedger {
  const answeredAddresses = new Set<string>();
  let lost = 0;
  for (const answer of answers) {
    answeredAddresses.add(answer.ip);
    if ((rowsByAddress.get(answer.ip) ?? 0) === 0) lost += 1;
  }
  let rows = 0;
  let doubled = 0;
  let rowsWithoutAnswer = 0;
  for (const [address, count] of rowsByAddress) {
    rows += count;
    if (count > 1) doubled += count - 1;
    if (!answeredAddresses.has(address)) rowsWithoutAnswer += count;
  }
  return { answered: answers.length, rows, lost, doubled, rowsWithoutAnswer };
}

/**
 * Polls the rows until none of the answered requests misses one, or (where some are expected to be
 * lost) the rows have not changed for `quietMs`, or `deadlineMs` has passed.
 */
export async function settledLedger(
  answers: readonly Answer[],
  rowsByAddress: () => Promise<ReadonlyMap<string, number>>,
  deadlineMs: number,
  quietMs = Number.POSITIVE_INFINITY,
): Promise<{ ledger: RowLedger; waitedMs: number }> {
  const started = Date.now();
  let rows = -1;
  let changedMs = started;
  for (;;) {
    const ledger = reconcile(answers, await rowsByAddress());
    if (ledger.rows !== rows) {
      rows = ledger.rows;
      changedMs = Date.now();
    }
    if (ledger.lost === 0 || Date.now() - changedMs > quietMs || Date.now() - started > deadlineMs) {
      // A moment more, so a doubled row written after the last missing one is seen too.
      const waitedMs = changedMs - started;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      return { ledger: reconcile(answers, await rowsByAddress()), waitedMs };
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
