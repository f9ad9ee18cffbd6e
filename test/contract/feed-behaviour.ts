// One behaviour suite for the change feed: whatever carries it — Redis
// projection + pub/sub, or the in-process feed of the embedded mode — a gateway following it with
// followKeyFeed sees the same things. Each implementation supplies a factory; the suite drives the
// control plane's side (ChangePublisher) and asserts on the gateway's key table.
import pino from 'pino';
import t, { type Test } from 'tap';
import type { FeedSource, KeyView, TierView } from '../../contracts/feed.js';
import type { ChangePublisher, ProjectionData, ProjectionSource } from '../../control-plane/src/feed/publisher.js';
import { followKeyFeed, type KeyFeed } from '../../gateway/src/keys/follow-feed.js';
import { laterRevision } from '../../test-support/revisions.js';
import { keyView as publishedKeyView, tierView } from '../../test-support/views.js';

export const silentLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export interface FeedUnderTest {
  readonly publisher: ChangePublisher;
  readonly source: FeedSource;
  close(): Promise<void>;
}

/** Builds both sides over `projection` (what PostgreSQL would hold). Nothing is started yet. */
export type FeedFactory = (projection: ProjectionSource) => Promise<FeedUnderTest>;

export const freeTier: TierView = tierView({ name: 'free', limits: [{ window: '1m', limit: 5 }], algorithm: 'sliding_window' });

export function keyView(id: string, tier = 'free'): KeyView {
  return publishedKeyView({ id, tier });
}

/** PostgreSQL's contents, in memory: the suite is about the feed, not the database. */
export class MemoryProjection implements ProjectionSource {
  readonly keys = new Map<string, KeyView>();
  readonly tiers = new Map<string, TierView>([[freeTier.name, freeTier]]);
  /** Entries that left the projection (a rotated-away hash, a deleted tier): field → revision. */
  readonly retired = new Map<string, number>();

  constructor(keys: Record<string, KeyView> = {}) {
    for (const [hash, view] of Object.entries(keys)) this.keys.set(hash, view);
  }

  /** Rows as loaded are older than every change a test publishes (laterRevision starts above 0). */
  async loadAll(): Promise<ProjectionData> {
    return {
      keys: [...this.keys].map(([hash, view]) => ({ hash, view, revision: 0 })),
      tiers: [...this.tiers.values()].map((view) => ({ view, revision: 0 })),
      retired: [...this.retired].map(([field, revision]) => ({ field, revision })),
    };
  }
}

async function until(condition: () => boolean | Promise<boolean>, deadlineMs: number): Promise<boolean> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function feedBehaviour(label: string, factory: FeedFactory): void {
  const setUp = async (tap: Test, projection: ProjectionSource, started = true) => {
    const feed = await factory(projection);
    if (started) await feed.publisher.start();
    const followers: KeyFeed[] = [];
    const follow = () => {
      const follower = followKeyFeed({ source: feed.source, logger: silentLogger, retryMs: 50, checkIntervalMs: 200 });
      followers.push(follower);
      return follower;
    };
    tap.teardown(async () => {
      await Promise.all(followers.map((follower) => follower.close()));
      await feed.publisher.close();
      await feed.close();
    });
    return { ...feed, follow };
  };

  t.test(`${label}: a follower loads every key and tier of the projection`, async (t) => {
    const feed = await setUp(t, new MemoryProjection({ h1: keyView('key_1'), h2: keyView('key_2') }));
    const follower = feed.follow();
    await follower.ready;
    t.equal(follower.size, 2);
    t.equal(follower.get('h1')?.id, 'key_1');
    t.same(follower.get('h2')?.limits.map((limit) => [limit.window, limit.limit]), [['1m', 5]]);
  });

  t.test(`${label}: a published key reaches two followers within 1 s`, async (t) => {
    const feed = await setUp(t, new MemoryProjection());
    const followers = [feed.follow(), feed.follow()];
    await Promise.all(followers.map((follower) => follower.ready));
    await feed.publisher.publishKey('h1', keyView('key_1'), laterRevision());
    t.ok(await until(() => followers.every((follower) => follower.get('h1')?.id === 'key_1'), 1000));
  });

  t.test(`${label}: a tier change re-limits every key of the tier`, async (t) => {
    const feed = await setUp(t, new MemoryProjection({ h1: keyView('key_1'), h2: keyView('key_2') }));
    const follower = feed.follow();
    await follower.ready;
    await feed.publisher.publishTier('free', { ...freeTier, limits: [{ window: '1s', limit: 1 }, { window: '1h', limit: 9 }] }, laterRevision());
    const relimited = (hash: string) => follower.get(hash)?.limits.map((limit) => limit.window).join(',') === '1s,1h';
    t.ok(await until(() => relimited('h1') && relimited('h2'), 1000));
  });

  t.test(`${label}: a removed key is gone from the follower within 1 s`, async (t) => {
    const feed = await setUp(t, new MemoryProjection({ h1: keyView('key_1') }));
    const follower = feed.follow();
    await follower.ready;
    await feed.publisher.publishKey('h1', null, laterRevision());
    t.ok(await until(() => follower.get('h1') === undefined, 1000));
  });

  t.test(`${label}: a change that reaches the feed after a newer one of the same key is dropped`, async (t) => {
    const feed = await setUp(t, new MemoryProjection({ h1: keyView('key_1') }));
    const follower = feed.follow();
    await follower.ready;
    // Two control planes: the deactivation committed second but was published first.
    const activated = laterRevision();
    const deactivated = laterRevision();
    await feed.publisher.publishKey('h1', { ...keyView('key_1'), active: false }, deactivated);
    const head = await feed.source.head();
    await feed.publisher.publishKey('h1', keyView('key_1'), activated);
    t.same(await feed.source.head(), head, 'no new version for the older change');
    t.ok(await until(() => follower.version === head?.version, 1000));
    t.equal(follower.get('h1')?.active, false, 'the key stays inactive');
  });

  t.test(`${label}: an older view of a removed key does not bring it back`, async (t) => {
    const feed = await setUp(t, new MemoryProjection({ h1: keyView('key_1') }));
    const follower = feed.follow();
    await follower.ready;
    const renamed = laterRevision();
    await feed.publisher.publishKey('h1', null, laterRevision());
    await feed.publisher.publishKey('h1', keyView('key_1'), renamed);
    await feed.publisher.publishKey('h2', keyView('key_2'), laterRevision());
    t.ok(await until(() => follower.get('h2') !== undefined, 1000), 'a later change still gets through');
    t.equal(follower.get('h1'), undefined);
  });

  t.test(`${label}: a rebuild keeps a removed key's revision, so an older view of it stays out`, async (t) => {
    const projection = new MemoryProjection({ h1: keyView('key_1') });
    const feed = await setUp(t, projection);
    const follower = feed.follow();
    await follower.ready;
    const renamed = laterRevision();
    await feed.publisher.publishKey('h1', null, laterRevision());
    projection.keys.delete('h1');
    await feed.publisher.start();
    await feed.publisher.publishKey('h1', keyView('key_1'), renamed);
    await feed.publisher.publishKey('h2', keyView('key_2'), laterRevision());
    t.ok(await until(() => follower.get('h2') !== undefined, 2000), 'a later change still gets through');
    t.equal(follower.get('h1'), undefined);
  });

  t.test(`${label}: a feed built from the source knows its retired entries, so a stale view of a rotated-away key stays out`, async (t) => {
    // What a rebuild after Redis lost its data sees: no applied revisions, only PostgreSQL's rows and
    // tombstones. The old hash of a rotated key left at the rotation's revision; a change of it
    // published before the rotation arrives only now.
    const projection = new MemoryProjection({ h2: keyView('key_1') });
    const stale = laterRevision();
    projection.retired.set('key:h1', laterRevision());
    const feed = await setUp(t, projection);
    const follower = feed.follow();
    await follower.ready;
    const head = await feed.source.head();
    await feed.publisher.publishKey('h1', keyView('key_1'), stale);
    t.same(await feed.source.head(), head, 'no new version for the stale change');
    await feed.publisher.publishKey('h3', keyView('key_3'), laterRevision());
    t.ok(await until(() => follower.get('h3') !== undefined, 2000), 'a later change still gets through');
    t.equal(follower.get('h1'), undefined, 'the old secret stays dead');
  });

  t.test(`${label}: changes get consecutive versions and the follower ends at the feed's head`, async (t) => {
    const feed = await setUp(t, new MemoryProjection());
    const follower = feed.follow();
    await follower.ready;
    const start = await feed.source.head();
    for (let i = 1; i <= 5; i += 1) await feed.publisher.publishKey(`h${i}`, keyView(`key_${i}`), laterRevision());
    const head = await feed.source.head();
    t.equal(head?.epoch, start?.epoch);
    t.equal(head?.version, (start?.version ?? 0) + 5);
    t.ok(await until(() => follower.version === head?.version && follower.size === 5, 1000));
  });

  t.test(`${label}: a follower started before the projection exists becomes ready once it is built`, async (t) => {
    const feed = await setUp(t, new MemoryProjection({ h1: keyView('key_1') }), false);
    const follower = feed.follow();
    t.notOk(follower.loaded);
    await feed.publisher.start();
    t.ok(await until(() => follower.loaded, 2000));
    t.equal(follower.get('h1')?.id, 'key_1');
  });

  t.test(`${label}: a rebuild from the source (a control plane restart) brings followers to the new state`, async (t) => {
    const projection = new MemoryProjection({ h1: keyView('key_1') });
    const feed = await setUp(t, projection);
    const follower = feed.follow();
    await follower.ready;
    // Written to PostgreSQL while no feed carried it (a change made before this control plane started).
    projection.keys.delete('h1');
    projection.keys.set('h9', keyView('key_9'));
    await feed.publisher.start();
    t.ok(await until(() => follower.get('h9')?.id === 'key_9' && follower.get('h1') === undefined, 2000));
  });

  t.test(`${label}: a rebuild goes on from the feed's version instead of starting again at 0`, async (t) => {
    const feed = await setUp(t, new MemoryProjection());
    const follower = feed.follow();
    await follower.ready;
    for (let i = 1; i <= 3; i += 1) await feed.publisher.publishKey(`h${i}`, keyView(`key_${i}`), laterRevision());
    const before = await feed.source.head();
    await feed.publisher.start();
    const after = await feed.source.head();
    t.not(after?.epoch, before?.epoch, 'a new epoch');
    t.equal(after?.version, (before?.version ?? 0) + 1, 'the next version');
    t.ok(await until(() => follower.version === after?.version, 2000), 'and the follower reports it');
  });
}
