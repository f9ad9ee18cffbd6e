// A request-event sink that keeps what the gateway records, for tests that read the request log's
// rows before they leave the process.
import type { RequestEvent, RequestEventSink } from '../../../contracts/request-event.js';

export class CollectingSink implements RequestEventSink {
  readonly events: RequestEvent[] = [];
  record(event: RequestEvent): void {
    this.events.push(event);
  }
  async close(): Promise<void> {}
}
