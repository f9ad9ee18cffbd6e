// A ChangePublisher that remembers what it was asked to publish, so tests can assert it. It can be
// told to fail, to prove a publish failure does not fail the REST call.
import type { KeyView, TierView } from '../../../contracts/feed.js';
import type { ChangePublisher } from '../../src/feed/publisher.js';

export type Published =
  | { readonly kind: 'key'; readonly hash: string; readonly view: KeyView | null; readonly revision: number }
  | { readonly kind: 'tier'; readonly name: string; readonly view: TierView | null; readonly revision: number };

export class RecordingPublisher implements ChangePublisher {
  readonly published: Published[] = [];
  failing = false;

  async publishKey(secretHash: string, view: KeyView | null, revision: number): Promise<void> {
    if (this.failing) throw new Error('feed unavailable');
    this.published.push({ kind: 'key', hash: secretHash, view, revision });
  }

  async publishTier(name: string, view: TierView | null, revision: number): Promise<void> {
    if (this.failing) throw new Error('feed unavailable');
    this.published.push({ kind: 'tier', name, view, revision });
  }

  async start(): Promise<void> {}
  async close(): Promise<void> {}

  keyChanges(hash: string): (KeyView | null)[] {
    return this.published.flatMap((entry) => (entry.kind === 'key' && entry.hash === hash ? [entry.view] : []));
  }

  tierChanges(name: string): (TierView | null)[] {
    return this.published.flatMap((entry) => (entry.kind === 'tier' && entry.name === name ? [entry.view] : []));
  }
}
