// A key view from the projection's JSON text. A gateway reads a million of these when it starts, so
// the common shape (no limits of its own) is checked by hand; anything else goes through the zod
// schema. Either way exactly what keyViewSchema accepts is accepted.
import { type KeyView, keyViewSchema } from '../../../contracts/feed.js';
import { MODES, TIER_NAME_PATTERN } from '../../../contracts/limits.js';

type Candidate = Partial<Record<keyof KeyView, unknown>>;

function isPlainView(value: Candidate): boolean {
  return (
    typeof value.id === 'string' &&
    typeof value.tier === 'string' &&
    TIER_NAME_PATTERN.test(value.tier) &&
    value.limits === null &&
    typeof value.active === 'boolean' &&
    (value.expires_at === null || typeof value.expires_at === 'string') &&
    (value.mode === undefined || value.mode === null || (MODES as readonly unknown[]).includes(value.mode))
  );
}

/** The view, or null when the text is not JSON or not a key view. */
export function parseKeyView(text: string): KeyView | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const candidate = value as Candidate;
    if (isPlainView(candidate)) {
      return {
        id: candidate.id as string,
        tier: candidate.tier as string,
        limits: null,
        active: candidate.active as boolean,
        expires_at: candidate.expires_at as string | null,
        mode: (candidate.mode ?? null) as KeyView['mode'],
      };
    }
  }
  const result = keyViewSchema.safeParse(value);
  return result.success ? result.data : null;
}
