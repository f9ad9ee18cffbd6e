// Applies migrations/NNNN_name.sql in order, each once, each in its own transaction, recorded in
// schema_migrations. A session advisory lock around the whole run lets several processes start at
// once: the second waits, then finds nothing left to do. Everything goes through kysely, so the
// same runner works on any Dialect (PostgreSQL, PGlite).
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql, type Kysely } from 'kysely';
import type { Database, Db } from './db.js';
import { splitSqlStatements, sqlWithoutComments } from './sql-statements.js';

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Arbitrary but fixed: the advisory lock id every Tollgate migration run takes. */
const MIGRATION_LOCK_ID = 7_401_523_001;
const FILE_PATTERN = /^(\d{4})_([a-z0-9_-]+)\.sql$/;

export interface Migration {
  readonly version: number;
  readonly name: string;
  /** SHA-256 of the SQL without comments (sqlWithoutComments): rewording a comment changes nothing. */
  readonly checksum: string;
  /** SHA-256 of the whole file, as recorded by earlier versions of this runner. */
  readonly fileChecksum: string;
  readonly text: string;
}

export interface MigrationResult {
  readonly applied: readonly string[];
  readonly skipped: readonly string[];
}

export class MigrationError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MigrationError';
    this.code = code;
  }
}

/** The repository's migrations/ folder, found from this module both under tsx and in dist/. */
export function defaultMigrationsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 6; depth += 1) {
    const candidate = join(dir, 'migrations');
    if (existsSync(candidate) && existsSync(join(dir, 'package.json'))) return candidate;
    dir = dirname(dir);
  }
  throw new MigrationError('migrations_dir_missing', 'cannot find the migrations folder');
}

export function readMigrations(dir: string = defaultMigrationsDir()): Migration[] {
  const migrations = readdirSync(dir)
    .map((file) => ({ file, match: FILE_PATTERN.exec(file) }))
    .filter((entry): entry is { file: string; match: RegExpExecArray } => entry.match !== null)
    .map(({ file, match }) => {
      const text = readFileSync(join(dir, file), 'utf8');
      return {
        version: Number(match[1]),
        name: match[2] ?? file,
        checksum: sha256(sqlWithoutComments(text)),
        fileChecksum: sha256(text),
        text,
      };
    })
    .sort((a, b) => a.version - b.version);
  for (let index = 1; index < migrations.length; index += 1) {
    if (migrations[index]?.version === migrations[index - 1]?.version) {
      throw new MigrationError('duplicate_version', `two migrations share version ${migrations[index]?.version}`);
    }
  }
  return migrations;
}

export async function runMigrations(
  db: Db,
  migrations: readonly Migration[] = readMigrations(),
): Promise<MigrationResult> {
  // A session lock needs one connection for the whole run.
  return db.connection().execute(async (connection) => {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK_ID})`.execute(connection);
    try {
      return await applyPending(connection, migrations);
    } finally {
      await sql`select pg_advisory_unlock(${MIGRATION_LOCK_ID})`.execute(connection);
    }
  });
}

async function applyPending(connection: Kysely<Database>, migrations: readonly Migration[]): Promise<MigrationResult> {
  await sql`
    create table if not exists schema_migrations (
      version integer primary key,
      name text not null,
      checksum text not null,
      applied_at timestamptz not null default now()
    )`.execute(connection);
  const rows = await connection.selectFrom('schema_migrations').select(['version', 'checksum']).execute();
  const appliedChecksums = new Map(rows.map((row) => [Number(row.version), row.checksum]));
  const applied: string[] = [];
  const skipped: string[] = [];
  for (const migration of migrations) {
    const label = `${String(migration.version).padStart(4, '0')}_${migration.name}`;
    const known = appliedChecksums.get(migration.version);
    if (known !== undefined) {
      // An edited migration that already ran would silently diverge between databases. Databases
      // migrated before checksums ignored comments recorded the whole file's.
      if (known !== migration.checksum && known !== migration.fileChecksum) {
        throw new MigrationError('checksum_mismatch', `migration ${label} changed after it was applied`);
      }
      skipped.push(label);
      continue;
    }
    await connection.transaction().execute(async (trx) => {
      for (const statement of splitSqlStatements(migration.text)) {
        await sql.raw(statement).execute(trx);
      }
      await trx
        .insertInto('schema_migrations')
        .values({ version: migration.version, name: migration.name, checksum: migration.checksum })
        .execute();
    });
    applied.push(label);
  }
  return { applied, skipped };
}
