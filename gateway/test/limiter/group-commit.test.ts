// Group commit without Redis: `send` is a function of the test's, which answers each batch when the
// test says so.
import t from 'tap';
import { GroupCommit } from '../../src/limiter/group-commit.js';

interface SentBatch {
  readonly items: number[];
  readonly receivers: string[];
  answer(): void;
}

/** A group commit whose batches wait for the test to answer them; `now` is the test's clock. */
function harness(options: { maxBatch?: number; maxHoldMs?: number; maxQueued?: number } = {}) {
  const batches: SentBatch[] = [];
  let now = 1000;
  const queue = new GroupCommit<number, string>({
    ...options,
    now: () => now,
    send: (items, receivers, done) => batches.push({ items, receivers, answer: done }),
  });
  return {
    queue,
    batches,
    advance(ms: number) {
      now += ms;
    },
  };
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

t.test('the items added in one turn go out as one batch at the end of the turn', async (t) => {
  const { queue, batches } = harness();
  queue.add(1, 'a');
  queue.add(2, 'b');
  queue.add(3, 'c');
  t.equal(batches.length, 0, 'nothing is sent during the turn');
  await nextTurn();
  t.equal(batches.length, 1);
  t.same(batches[0]?.items, [1, 2, 3], 'in the order added');
  t.same(batches[0]?.receivers, ['a', 'b', 'c'], 'each with its receiver');
});

t.test('while a batch is unanswered, the items of later turns wait for it and then go out together', async (t) => {
  const { queue, batches } = harness({ maxHoldMs: 60_000 });
  queue.add(1, 'a');
  await nextTurn();
  queue.add(2, 'b');
  await nextTurn();
  queue.add(3, 'c');
  await nextTurn();
  t.equal(batches.length, 1, 'the later items are held while the first batch waits');
  batches[0]?.answer();
  t.equal(batches.length, 2, 'the answer sends them at once');
  t.same(batches[1]?.items, [2, 3], 'together, in the order they arrived');
});

t.test('items held behind a batch slower than maxHoldMs go out without waiting for its answer', async (t) => {
  const { queue, batches, advance } = harness({ maxHoldMs: 30 });
  queue.add(1, 'a');
  await nextTurn();
  queue.add(2, 'b');
  await nextTurn();
  t.equal(batches.length, 1, 'held: the first batch is younger than maxHoldMs');
  advance(30);
  await sleep(60);
  t.equal(batches.length, 2, 'sent while the first batch is still unanswered');
  t.same(batches[1]?.items, [2]);
});

t.test('a full batch goes out at once, even while another is unanswered', async (t) => {
  const { queue, batches } = harness({ maxBatch: 3, maxHoldMs: 60_000 });
  queue.add(1, 'a');
  await nextTurn();
  queue.add(2, 'b');
  queue.add(3, 'c');
  t.equal(batches.length, 1);
  queue.add(4, 'd');
  t.equal(batches.length, 2, 'the third item of the turn filled the batch');
  t.same(batches[1]?.items, [2, 3, 4]);
});

t.test('once the batches in flight are answered, the next item goes out in the turn it arrives', async (t) => {
  const { queue, batches } = harness({ maxHoldMs: 60_000 });
  for (let i = 0; i < 50; i += 1) queue.add(i, 'r');
  await nextTurn();
  batches[0]?.answer();
  queue.add(50, 'r');
  await nextTurn();
  t.equal(batches.length, 2, 'not held back for a while after a large batch');
  t.same(batches[1]?.items, [50]);
});

t.test('more items than maxQueued are refused and the queued ones still go out', async (t) => {
  const { queue, batches } = harness({ maxQueued: 2 });
  t.ok(queue.add(1, 'a'));
  t.ok(queue.add(2, 'b'));
  t.notOk(queue.add(3, 'c'), 'the third is refused');
  t.equal(queue.queued, 2);
  await nextTurn();
  t.same(batches[0]?.items, [1, 2]);
  t.ok(queue.add(4, 'd'), 'room again once the queue was sent');
});

t.test('close sends whatever waits', async (t) => {
  const { queue, batches } = harness({ maxHoldMs: 60_000 });
  queue.add(1, 'a');
  await nextTurn();
  queue.add(2, 'b');
  queue.close();
  t.equal(batches.length, 2);
  t.same(batches[1]?.items, [2]);
});
