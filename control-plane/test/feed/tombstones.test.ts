import t from 'tap';
import { sql } from 'kysely';
import { listTombstones, retireProjectionEntry } from '../../src/feed/tombstones.js';
import { startTestApp } from '../helpers/test-app.js';

const ctx = await startTestApp('tombstones');
t.teardown(() => ctx.close());

t.test('retiring an entry twice keeps its higher revision', async (t) => {
  await retireProjectionEntry(ctx.db, 'tier:twice', 20);
  await retireProjectionEntry(ctx.db, 'tier:twice', 10);
  t.same(
    (await listTombstones(ctx.db)).filter((entry) => entry.field === 'tier:twice'),
    [{ field: 'tier:twice', revision: 20 }],
  );
});

t.test('entries retired over a week ago are neither listed nor kept once another is retired', async (t) => {
  await ctx.db
    .insertInto('projection_tombstones')
    .values({ field: 'tier:old', revision: 5, retired_at: sql<Date>`now() - interval '8 days'` })
    .execute();
  t.notOk((await listTombstones(ctx.db)).some((entry) => entry.field === 'tier:old'), 'not listed');
  await retireProjectionEntry(ctx.db, 'tier:new', 30);
  const stored = await ctx.db.selectFrom('projection_tombstones').select('field').execute();
  t.notOk(stored.some((row) => row.field === 'tier:old'), 'pruned');
  t.ok(stored.some((row) => row.field === 'tier:new'));
});
