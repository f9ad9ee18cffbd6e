// What POST /v1/keys/batch checks beyond the body's shape, for every item at once, each problem
// named by the item's index (`items.3.tier`), so a client fixes a whole batch in one round.
import type { ProblemFieldError } from '../../../contracts/problem.js';
import { type Algorithm, burstIssues } from '../../../contracts/limits.js';
import { PolicyConflictError, ValidationError } from '../http/errors.js';
import { MAX_REPORTED_ERRORS } from '../http/validate.js';
import type { CreateKey } from './schema.js';

interface TierFacts {
  readonly name: string;
  readonly algorithm: string;
}

function listed(errors: readonly ProblemFieldError[], what: string): { errors: ProblemFieldError[]; detail: string } {
  const shown = errors.slice(0, MAX_REPORTED_ERRORS);
  const more = errors.length > shown.length ? ` (the first ${shown.length} of ${errors.length} are listed)` : '';
  return { errors: shown, detail: `${errors.length} of the keys ${what}${more}` };
}

/** Throws the first kind of problem found (400 expiry, 422 unknown tier, 422 limits), listing every item with it. */
export function checkBatch(inputs: readonly CreateKey[], tiers: ReadonlyMap<string, TierFacts>, now: Date): void {
  const past = inputs.flatMap((input, index) =>
    input.expires_at && new Date(input.expires_at).getTime() <= now.getTime() ? [{ path: `items.${index}.expires_at`, message: 'must be in the future' }] : [],
  );
  if (past.length > 0) {
    const { errors, detail } = listed(past, 'expire in the past');
    throw new ValidationError(errors, detail);
  }
  const unknown = inputs.flatMap((input, index) =>
    tiers.has(input.tier) ? [] : [{ path: `items.${index}.tier`, message: `tier ${input.tier} does not exist` }],
  );
  if (unknown.length > 0) {
    const { errors, detail } = listed(unknown, 'name a tier that does not exist');
    throw new ValidationError(errors, detail, 422, 'unknown-tier');
  }
  // A key's own limits are read with its tier's algorithm: a burst needs a GCRA tier.
  const misfits = inputs.flatMap((input, index) => {
    const tier = tiers.get(input.tier) as TierFacts;
    return burstIssues(input.limits, tier.algorithm as Algorithm, ['items', index, 'limits']);
  });
  if (misfits.length > 0) {
    const { detail } = listed(misfits.map((issue) => ({ path: issue.path.join('.'), message: issue.message })), 'have limits that do not fit their tier');
    throw new PolicyConflictError(misfits.slice(0, MAX_REPORTED_ERRORS), detail);
  }
}
