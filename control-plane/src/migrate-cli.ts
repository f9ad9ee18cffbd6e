// `npm run migrate`: applies pending migrations to DATABASE_URL and says what it did.
import { ConfigError, loadDotEnv, loadMigrateConfig } from './config.js';
import { createDb, postgresDialect } from './db.js';
import { runMigrations } from './migrate.js';

async function main(): Promise<number> {
  let databaseUrl: string;
  try {
    loadDotEnv();
    databaseUrl = loadMigrateConfig(process.env).databaseUrl;
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 1;
    }
    throw error;
  }
  const db = createDb(postgresDialect(databaseUrl, { max: 1 }));
  try {
    const result = await runMigrations(db);
    for (const name of result.applied) console.log(`applied ${name}`);
    console.log(`migrations: ${result.applied.length} applied, ${result.skipped.length} already applied`);
    return 0;
  } catch (error) {
    console.error(`migration failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    await db.destroy();
  }
}

process.exitCode = await main();
