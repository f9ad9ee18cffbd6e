// The single-machine mode's PostgreSQL: PGlite with its files in the data directory, migrated by the
// same runner and SQL files as production, so keys and tiers survive a restart.
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { createDb, type Db } from './db.js';
import { runMigrations, type MigrationResult } from './migrate.js';
import { PGliteDialect } from './pglite-dialect.js';

export interface EmbeddedDatabase {
  readonly db: Db;
  readonly migrations: MigrationResult;
  /** Closes PGlite (it flushes its files); call after everything that queries has stopped. */
  close(): Promise<void>;
}

export async function openEmbeddedDatabase(dataDir: string): Promise<EmbeddedDatabase> {
  const pg = new PGlite(join(dataDir, 'pgdata'));
  const db = createDb(new PGliteDialect(pg));
  let migrations: MigrationResult;
  try {
    migrations = await runMigrations(db);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return {
    db,
    migrations,
    // kysely's destroy closes the driver, which closes PGlite after the last query.
    close: () => db.destroy(),
  };
}
