// Which way `npm start` runs: with neither REDIS_URL nor DATABASE_URL, everything in one
// process on the embedded stores; with both, the services as separate processes against the real
// servers. One without the other is almost always a mistake, so it is refused rather than guessed.

export type LaunchMode = { readonly kind: 'embedded' } | { readonly kind: 'multi-process' } | { readonly kind: 'invalid'; readonly message: string };

/** Empty values count as unset, as in the services' own configuration. */
function isSet(value: string | undefined): boolean {
  return value !== undefined && value.trim() !== '';
}

export function chooseMode(env: Record<string, string | undefined>): LaunchMode {
  const redis = isSet(env.REDIS_URL);
  const database = isSet(env.DATABASE_URL);
  if (!redis && !database) return { kind: 'embedded' };
  if (redis && database) return { kind: 'multi-process' };
  const missing = redis ? 'DATABASE_URL' : 'REDIS_URL';
  const present = redis ? 'REDIS_URL' : 'DATABASE_URL';
  return {
    kind: 'invalid',
    message:
      `invalid configuration: ${missing} is not set but ${present} is; the multi-process mode needs both ` +
      'REDIS_URL and DATABASE_URL (unset both for the single-machine mode)',
  };
}
