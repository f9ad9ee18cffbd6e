// Starts the control plane's HTTP app on port 0 against a migrated PostgreSQL database of the test
// file's own, with a recording publisher and a logger writing into memory.
import { Writable } from 'node:stream';
import { createApp, type App, type AppDeps } from '../../src/app.js';
import type { Clock } from '../../src/clock.js';
import { createDb, postgresDialect, type Db } from '../../src/db.js';
import { createLogger, type Logger } from '../../src/log.js';
import { runMigrations } from '../../src/migrate.js';
import { createTestDatabase, type TestDatabase } from '../../../test-support/postgres-database.js';
import { RecordingPublisher } from './recording-publisher.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

/** Every log line the app wrote, as text. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: string, callback: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    callback();
  }
}

export interface TestApp {
  readonly baseUrl: string;
  readonly db: Db;
  readonly database: TestDatabase;
  readonly app: App;
  readonly publisher: RecordingPublisher;
  readonly logs: LogCapture;
  /** JSON request with the admin token (unless `headers.authorization` says otherwise). */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<TestResponse>;
  close(): Promise<void>;
}

export interface TestResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  // Tests read fields freely; shapes are asserted where they matter.
  readonly body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface TestAppOptions {
  readonly clock?: Clock;
  /** Point the app at another database (e.g. one that cannot be reached). */
  readonly appDatabaseUrl?: string;
  readonly extraRoutes?: AppDeps['extraRoutes'];
  /** More of the app's dependencies, built from the test file's database (e.g. the admin UI). */
  readonly withDb?: (db: Db, logger: Logger) => Pick<AppDeps, 'pages' | 'errorPage' | 'extraRoutes'>;
  readonly httpTimeouts?: AppDeps['httpTimeouts'];
}

export async function startTestApp(label: string, options: TestAppOptions = {}): Promise<TestApp> {
  const database = await createTestDatabase(label);
  const db = createDb(postgresDialect(database.url, { max: 5 }));
  await runMigrations(db);
  const appDb = options.appDatabaseUrl
    ? createDb(postgresDialect(options.appDatabaseUrl, { max: 1, connectTimeoutSeconds: 1 }))
    : db;
  const publisher = new RecordingPublisher();
  const logs = new LogCapture();
  const logger = createLogger('info', logs);
  const app = createApp({
    db: appDb,
    publisher,
    logger,
    adminToken: ADMIN_TOKEN,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.extraRoutes ? { extraRoutes: options.extraRoutes } : {}),
    ...(options.withDb ? options.withDb(appDb, logger) : {}),
    ...(options.httpTimeouts ? { httpTimeouts: options.httpTimeouts } : {}),
  });
  const port = await app.listen(0, '127.0.0.1');
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    baseUrl,
    db,
    database,
    app,
    publisher,
    logs,
    async call(method, path, body, headers = {}) {
      const response = await fetch(baseUrl + path, {
        method,
        headers: {
          authorization: `Bearer ${ADMIN_TOKEN}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const text = await response.text();
      let parsed: unknown = undefined;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      return { status: response.status, headers: response.headers, text, body: parsed };
    },
    async close() {
      await app.close(1000);
      if (appDb !== db) await appDb.destroy().catch(() => {});
      await db.destroy();
      await database.drop();
    },
  };
}

let counter = 0;
/** A tier name no other test in the file uses. */
export function uniqueName(base: string): string {
  counter += 1;
  return `${base}-${counter}-${Math.random().toString(36).slice(2, 6)}`;
}
