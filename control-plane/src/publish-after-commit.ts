// Publishing to the change feed happens after the transaction committed. A failure there must not
// fail the REST call (the change is durable); the feed rebuilds its projection from PostgreSQL.
import type { Logger } from './log.js';

export type Publish = (what: string, action: () => Promise<void>) => Promise<void>;

export function createPublish(logger: Logger): Publish {
  return async (what, action) => {
    try {
      await action();
    } catch (error) {
      logger.warn({ err: error, change: what }, 'publish failed; the feed will catch up on rebuild');
    }
  };
}
