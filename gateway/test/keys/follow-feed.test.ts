import t from 'tap';
import {
  type ChangeMessage,
  type FeedListener,
  type FeedSnapshot,
  type FeedSource,
  type KeyView,
  type TierView,
  encodeChangeMessage,
} from '../../../contracts/feed.js';
import { followKeyFeed } from '../../src/keys/follow-feed.js';
import { freeTier, keyView, silentLogger, waitFor } from './feed-helpers.js';

/** A FeedSource with no Redis behind it, as the embedded mode plugs in. */
function inProcessSource() {
  const listeners = new Set<FeedListener>();
  let state: { epoch: string; version: number; keys: Map<string, KeyView>; tiers: Map<string, TierView> } | null = null;
  const source: FeedSource = {
    async snapshot(): Promise<FeedSnapshot | null> {
      return state && { ...state, keys: new Map(state.keys), tiers: new Map(state.tiers), invalidEntries: 0 };
    },
    async head() {
      return state && { epoch: state.epoch, version: state.version };
    },
    async subscribe(listener) {
      listeners.add(listener);
      return async () => {
        listeners.delete(listener);
      };
    },
  };
  const send = (message: ChangeMessage) => {
    for (const listener of listeners) listener.onMessage(encodeChangeMessage(message));
  };
  return {
    source,
    load(epoch: string, keys: Record<string, KeyView>) {
      state = { epoch, version: 0, keys: new Map(Object.entries(keys)), tiers: new Map([[freeTier.name, freeTier]]) };
      send({ kind: 'rebuilt', epoch, version: 0 });
    },
    /** Delivers a message again, as a duplicate or late delivery would. */
    resend: send,
    key(id: string, value: KeyView | null) {
      if (!state) throw new Error('not loaded');
      state.version += 1;
      if (value) state.keys.set(id, value);
      else state.keys.delete(id);
      send({ kind: 'key', epoch: state.epoch, version: state.version, id, value });
      return state.version;
    },
  };
}

t.test('the follower works from an in-process source without Redis', async (t) => {
  const feed$ = inProcessSource();
  feed$.load('e1', { h1: keyView('key_1') });
  const feed = followKeyFeed({ source: feed$.source, logger: silentLogger });
  t.teardown(() => feed.close());
  await feed.ready;
  t.equal(feed.get('h1')?.id, 'key_1');
  const version = feed$.key('h2', keyView('key_2'));
  await waitFor(() => feed.version === version, 1000, 'the change');
  t.equal(feed.size, 2);
});

t.test('the follower is not ready until a projection exists and then loads it by itself', async (t) => {
  const feed$ = inProcessSource();
  const swaps: number[] = [];
  const feed = followKeyFeed({ source: feed$.source, logger: silentLogger, retryMs: 10, onSwap: (table) => swaps.push(table.size) });
  t.teardown(() => feed.close());
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.equal(feed.loaded, false);
  t.equal(feed.get('h1'), undefined);
  feed$.load('e1', { h1: keyView('key_1') });
  await feed.ready;
  t.equal(feed.loaded, true);
  t.same(swaps, [1], 'onSwap saw the loaded table');
});

t.test('several changes arriving together go into service as one swap', async (t) => {
  const feed$ = inProcessSource();
  feed$.load('e1', {});
  let swaps = 0;
  const feed = followKeyFeed({ source: feed$.source, logger: silentLogger, onSwap: () => (swaps += 1) });
  t.teardown(() => feed.close());
  await feed.ready;
  swaps = 0;
  for (let i = 0; i < 50; i += 1) feed$.key(`h${i}`, keyView(`key_${i}`));
  await waitFor(() => feed.version === 50, 1000, 'all changes');
  t.equal(swaps, 1);
  t.equal(feed.size, 50);
});

t.test('a table in service never changes under a reader', async (t) => {
  const feed$ = inProcessSource();
  feed$.load('e1', { h1: keyView('key_1') });
  const feed = followKeyFeed({ source: feed$.source, logger: silentLogger });
  t.teardown(() => feed.close());
  await feed.ready;
  const held = feed.table();
  feed$.key('h1', null);
  await waitFor(() => feed.get('h1') === undefined, 1000, 'the removal');
  t.equal(held.get('h1')?.id, 'key_1', 'the reference taken before still answers as before');
});

t.test('a message at or below the applied version is ignored', async (t) => {
  const feed$ = inProcessSource();
  feed$.load('e1', {});
  let swaps = 0;
  const feed = followKeyFeed({ source: feed$.source, logger: silentLogger, onSwap: () => (swaps += 1) });
  t.teardown(() => feed.close());
  await feed.ready;
  feed$.key('h1', keyView('key_1'));
  await waitFor(() => feed.version === 1, 1000, 'the change');
  swaps = 0;
  feed$.resend({ kind: 'key', epoch: 'e1', version: 1, id: 'h1', value: null });
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal(swaps, 0);
  t.equal(feed.get('h1')?.id, 'key_1', 'the stale removal was not applied');
  t.equal(feed.stats.reloads, 1, 'and caused no reload');
});
