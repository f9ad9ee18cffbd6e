// A key view from the projection's JSON text. A gateway reads a million of these when it starts, so
// the common shape (no limits of its own) is checked by hand and the parsed object itself is
// returned (fields a newer control plane added stay on it, unread); anything else goes through the
// zod schema. Either way exactly what keyViewSchema accepts is accepted, with the same values.
import { type KeyView, keyViewSchema } from '../../../contracts/feed.js';
import { MODES, TIER_NAME_PATTERN } from '../../../contracts/limits.js';

type Candidate = Partial<Record<keyof KeyView, unknown>>;

/** Tier names seen valid: a projection names a few tiers a million times. */
const validTierNames = new Set<string>();

function isTierName(name: string): boolean {
  if (validTierNames.has(name)) return true;
  const valid = TIER_NAME_PATTERN.test(name);
  // Bounded: past it, further names are tested each time.
  if (valid && validTierNames.size < 1000) validTierNames.add(name);
  return valid;
}

function isPlainView(value: Candidate): boolean {
  return (
    typeof value.id === 'string' &&
    typeof value.tier === 'string' &&
    isTierName(value.tier) &&
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
      candidate.mode ??= null;
      return candidate as KeyView;
    }
  }
  const result = keyViewSchema.safeParse(value);
  return result.success ? result.data : null;
}
