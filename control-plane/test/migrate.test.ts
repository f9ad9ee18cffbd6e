import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import t, { type Test } from 'tap';
import { createDb, postgresDialect, type Db } from '../src/db.js';
import { MigrationError, defaultMigrationsDir, readMigrations, runMigrations } from '../src/migrate.js';
import { splitSqlStatements } from '../src/sql-statements.js';
import { createTestDatabase } from '../../test-support/postgres-database.js';

async function freshDatabase(t: Test, label: string): Promise<{ db: Db; url: string }> {
  const database = await createTestDatabase(label);
  const db = createDb(postgresDialect(database.url, { max: 2 }));
  t.teardown(async () => {
    await db.destroy();
    await database.drop();
  });
  return { db, url: database.url };
}

const migrationFiles = readdirSync(defaultMigrationsDir()).filter((file) => /^\d{4}_.*\.sql$/.test(file));

t.test('a second run applies nothing and changes nothing', async (t) => {
  const { db } = await freshDatabase(t, 'migrate_twice');
  const first = await runMigrations(db);
  t.equal(first.applied.length, migrationFiles.length);
  t.ok(first.applied.includes('0001_initial'));
  const second = await runMigrations(db);
  t.same(second.applied, []);
  t.equal(second.skipped.length, migrationFiles.length);
  const rows = await db.selectFrom('schema_migrations').select(['version', 'name', 'checksum']).execute();
  t.equal(rows.length, migrationFiles.length);
  t.ok(rows.every((row) => /^[0-9a-f]{64}$/.test(row.checksum)));
});

t.test('two runs started at once both succeed and apply each file once', async (t) => {
  const { url } = await freshDatabase(t, 'migrate_race');
  const a = createDb(postgresDialect(url, { max: 1 }));
  const b = createDb(postgresDialect(url, { max: 1 }));
  t.teardown(async () => {
    await a.destroy();
    await b.destroy();
  });
  const [first, second] = await Promise.all([runMigrations(a), runMigrations(b)]);
  t.same([...first.applied, ...second.applied].sort(), migrationFiles.map((file) => file.replace(/\.sql$/, '')).sort());
  t.ok(first.applied.length === 0 || second.applied.length === 0, 'one run did everything, the other waited');
  const count = await sql<{ n: string }>`select count(*)::text as n from schema_migrations`.execute(a);
  t.equal(Number(count.rows[0]?.n), migrationFiles.length);
});

t.test('a migration edited after it ran is refused', async (t) => {
  const { db } = await freshDatabase(t, 'migrate_edit');
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-migrations-'));
  writeFileSync(join(dir, '0001_one.sql'), 'create table one (id int);');
  await runMigrations(db, readMigrations(dir));
  writeFileSync(join(dir, '0001_one.sql'), 'create table one (id bigint);');
  const error = await runMigrations(db, readMigrations(dir)).catch((caught: unknown) => caught);
  t.ok(error instanceof MigrationError);
  t.equal((error as MigrationError).code, 'checksum_mismatch');
});

t.test('rewording a comment of an applied migration is not an edit', async (t) => {
  const { db } = await freshDatabase(t, 'migrate_comment');
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-migrations-'));
  writeFileSync(join(dir, '0001_one.sql'), "-- the first table\ncreate table one (id int, note text default '-- kept');");
  await runMigrations(db, readMigrations(dir));
  writeFileSync(join(dir, '0001_one.sql'), "-- the first table, explained better\n/* and more */\ncreate table one (id int,\n  note text default '-- kept');");
  const result = await runMigrations(db, readMigrations(dir));
  t.same(result.skipped, ['0001_one']);
  writeFileSync(join(dir, '0001_one.sql'), "-- the first table\ncreate table one (id int, note text default '-- changed');");
  const error = await runMigrations(db, readMigrations(dir)).catch((caught: unknown) => caught);
  t.equal((error as MigrationError).code, 'checksum_mismatch', 'a change inside quotes is an edit');
});

t.test('a database migrated when checksums covered the whole file still passes', async (t) => {
  const { db } = await freshDatabase(t, 'migrate_legacy');
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-migrations-'));
  writeFileSync(join(dir, '0001_one.sql'), '-- note\ncreate table one (id int);');
  await runMigrations(db, readMigrations(dir));
  const [migration] = readMigrations(dir);
  await sql`update schema_migrations set checksum = ${migration?.fileChecksum} where version = 1`.execute(db);
  const result = await runMigrations(db, readMigrations(dir));
  t.same(result.skipped, ['0001_one']);
});

t.test('a failing migration rolls back entirely and is not recorded', async (t) => {
  const { db } = await freshDatabase(t, 'migrate_fail');
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-migrations-'));
  writeFileSync(join(dir, '0001_good.sql'), 'create table good (id int);');
  writeFileSync(join(dir, '0002_bad.sql'), 'create table half (id int);\nselect * from no_such_table;');
  await t.rejects(runMigrations(db, readMigrations(dir)));
  const versions = (await db.selectFrom('schema_migrations').select('version').execute()).map((row) => row.version);
  t.same(versions, [1]);
  const half = await sql<{ name: string | null }>`select to_regclass('half')::text as name`.execute(db);
  t.equal(half.rows[0]?.name, null, 'the first statement of the failed file was rolled back');
});

t.test('statements split on semicolons outside quotes, comments and dollar bodies', async (t) => {
  const text = [
    "-- a comment; with a semicolon",
    "create table a (note text default 'x;y');",
    '/* block; comment */',
    'do $$ begin perform 1; perform 2; end $$;',
    'create function f() returns int as $body$ select 1; $body$ language sql;',
    'select "odd;name" from a',
    '-- trailing comment only',
  ].join('\n');
  const statements = splitSqlStatements(text);
  t.equal(statements.length, 4);
  t.match(statements[0], /default 'x;y'\)$/);
  t.match(statements[1], /\ndo \$\$ begin perform 1; perform 2; end \$\$$/);
  t.match(statements[2], /\$body\$ select 1; \$body\$ language sql$/);
  t.match(statements[3], /^select "odd;name" from a\n-- trailing comment only$/);
});
