import t from 'tap';
import { type ChangeMessage, parseChangeMessage } from '../../../contracts/feed.js';
import { createMemoryChangeFeed } from '../../src/feed/memory-feed.js';
import { MemorySource, freeTier, keyView, silentLogger, waitFor } from './feed-helpers.js';
import { laterRevision } from '../../../test-support/revisions.js';

function listen(feed: ReturnType<typeof createMemoryChangeFeed>) {
  const messages: ChangeMessage[] = [];
  const subscribed = feed.subscribe({
    onMessage: (raw) => {
      const message = parseChangeMessage(raw);
      if (message) messages.push(message);
    },
    onReconnect: () => {},
  });
  return { messages, subscribed };
}

t.test('there is no snapshot before start and start loads everything from the source', async (t) => {
  const feed = createMemoryChangeFeed({ source: new MemorySource({ h1: keyView('key_1') }), logger: silentLogger });
  t.equal(await feed.snapshot(), null);
  t.equal(await feed.head(), null);
  await feed.start();
  const snapshot = await feed.snapshot();
  t.equal(snapshot?.version, 0);
  t.same(Object.fromEntries(snapshot?.keys ?? []), { h1: keyView('key_1') });
  t.same(Object.fromEntries(snapshot?.tiers ?? []), { free: freeTier });
  await feed.close();
});

t.test('each change is delivered to subscribers in order with the next version', async (t) => {
  const feed = createMemoryChangeFeed({ source: new MemorySource(), logger: silentLogger });
  const listener = listen(feed);
  await listener.subscribed;
  await feed.start();
  await feed.publishKey('h1', keyView('key_1'), laterRevision());
  await feed.publishTier('free', { ...freeTier, limits: [{ window: '1s', limit: 1 }] }, laterRevision());
  await feed.publishKey('h1', null, laterRevision());
  await waitFor(() => listener.messages.length === 4, 1000, 'four messages');
  const epoch = (await feed.head())?.epoch;
  t.same(
    listener.messages.map((message) => [message.kind, message.version, message.epoch === epoch]),
    [['rebuilt', 0, true], ['key', 1, true], ['tier', 2, true], ['key', 3, true]],
  );
  t.same((await feed.head())?.version, 3);
  t.equal((await feed.snapshot())?.keys.has('h1'), false);
  await feed.close();
});

t.test('a snapshot is a copy that later changes do not touch', async (t) => {
  const feed = createMemoryChangeFeed({ source: new MemorySource(), logger: silentLogger });
  await feed.start();
  const before = await feed.snapshot();
  await feed.publishKey('h1', keyView('key_1'), laterRevision());
  t.equal(before?.keys.size, 0);
  t.equal((await feed.snapshot())?.keys.size, 1);
  await feed.close();
});

t.test('an unsubscribed listener receives nothing more', async (t) => {
  const feed = createMemoryChangeFeed({ source: new MemorySource(), logger: silentLogger });
  const listener = listen(feed);
  const unsubscribe = await listener.subscribed;
  await feed.start();
  await unsubscribe();
  await feed.publishKey('h1', keyView('key_1'), laterRevision());
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal(listener.messages.length, 1, 'only the rebuilt message before unsubscribing');
  await feed.close();
});

t.test('a change published while start is loading is not lost', async (t) => {
  const source = new MemorySource({}, 100);
  const feed = createMemoryChangeFeed({ source, logger: silentLogger });
  const starting = feed.start();
  await waitFor(() => source.loads === 1, 1000, 'the load to begin');
  source.keys.set('h1', keyView('key_1'));
  await feed.publishKey('h1', keyView('key_1'), laterRevision());
  await starting;
  t.equal(source.loads, 2, 'loaded again');
  t.equal((await feed.snapshot())?.keys.has('h1'), true);
  await feed.close();
});
