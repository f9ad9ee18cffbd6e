// What a system under test is to the bench: where to send load, with which headers, and which
// status it should answer. Skipped systems keep their place in the report with the reason.

export interface SystemUnderTest {
  readonly name: string;
  readonly description: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly expectedStatus: number;
  /** The process under test, when the bench started it: its CPU time per request (with its child
   * processes') is reported. */
  readonly pid?: number;
  /** It uses the bench's Redis: Redis's cost per request is reported for it. */
  readonly usesRedis?: boolean;
  /** Runs before each warm-up and round of this system (e.g. resume the request-log writer). */
  readonly beforeRound?: () => Promise<void>;
  /** Runs after each warm-up and round of this system. */
  readonly afterRound?: () => Promise<void>;
}

export interface SkippedSystem {
  readonly name: string;
  readonly description: string;
  readonly expectedStatus: number;
  readonly skipped: string;
}

export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (cause: ${error.cause.message})` : '';
  return `${error.message}${cause}`.trim();
}
