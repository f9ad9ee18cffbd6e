import t from 'tap';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, sql } from 'kysely';
import { PGliteDialect } from '../src/pglite-dialect.js';

interface Database {
  items: { id: number; name: string };
}

// PGlite takes seconds to initialise, so the file shares one instance and empties it between tests.
const db = new Kysely<Database>({ dialect: new PGliteDialect(new PGlite()) });
t.before(async () => {
  await sql`create table items (id integer primary key, name text not null); create index on items (name)`.execute(db);
});
t.beforeEach(async () => {
  await sql`truncate items`.execute(db);
});
t.teardown(() => db.destroy());

t.test('a script of several statements runs through the dialect like a migration', async (t) => {
  const tables = await sql<{ n: number }>`select count(*)::int as n from pg_indexes where tablename = 'items'`.execute(db);
  t.equal(tables.rows[0]?.n, 2);
});

t.test('parameterised queries return rows and affected counts', async (t) => {
  const inserted = await db.insertInto('items').values([{ id: 1, name: 'a' }, { id: 2, name: 'b' }]).executeTakeFirst();
  t.equal(inserted.numInsertedOrUpdatedRows, 2n);
  t.same(await db.selectFrom('items').selectAll().where('id', '=', 2).execute(), [{ id: 2, name: 'b' }]);
});

t.test('a failed transaction rolls back and leaves earlier data intact', async (t) => {
  await db.insertInto('items').values({ id: 1, name: 'kept' }).execute();
  await t.rejects(
    db.transaction().execute(async (trx) => {
      await trx.insertInto('items').values({ id: 2, name: 'gone' }).execute();
      await trx.insertInto('items').values({ id: 1, name: 'duplicate' }).execute();
    }),
  );
  t.same(await db.selectFrom('items').select('name').execute(), [{ name: 'kept' }]);
});

t.test('a query issued during a transaction waits for it instead of joining it', async (t) => {
  let outsideSawRow: boolean | null = null;
  await db.transaction().execute(async (trx) => {
    await trx.insertInto('items').values({ id: 1, name: 'pending' }).execute();
    const outside = db.selectFrom('items').selectAll().execute().then((rows) => {
      outsideSawRow = rows.length === 1;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    t.equal(outsideSawRow, null, 'the outside query has not run inside the open transaction');
    void outside;
  });
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal(outsideSawRow, true, 'it ran after the commit and saw the row');
});
