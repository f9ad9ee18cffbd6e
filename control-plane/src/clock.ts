/** Where Node code needs "now" (timestamps, expiry checks), it asks this, so tests can pin it. */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();
