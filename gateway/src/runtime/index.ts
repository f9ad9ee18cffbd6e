// Every tweak of the Node/V8 runtime the gateway relies on, in one place, each with what it was
// measured to gain and the versions it is applied on:
//
//   GATEWAY_NODE_FLAGS (node-flags.ts)   V8 heap flags the process is started with (they cannot be
//     set once it runs): 5.4 → 2.2 µs of scavenge pause per request, and no slow first seconds
//     after an idle spell. All versions.
//   makeStringPrototypeFast (string-prototype.ts)   String.prototype fast again after ioredis made it
//     a dictionary: string methods inlined instead of a generic lookup per call (about a hundred
//     instructions each). Applied where ioredis was seen to leave it slow: V8 11–13 (Node 20–24).
//   keepTickObjectMapsAlive (tick-object-maps.ts)   process.nextTick stays monomorphic through idle
//     full GCs: 62 → 55–58 µs of CPU per admitted request in the full bench. V8 11–13.
//   latin1Text (latin1.ts)   header bytes decoded by Buffer's own latin1Slice: 0.5 µs per response
//     on Node 20 only (same cost either way on 22 and 24).
//
// applyRuntimeTweaks() applies the in-process ones; call it once, after every module has loaded
// (the String.prototype fix must come after ioredis has loaded).
import { makeStringPrototypeFast } from './string-prototype.js';
import { keepTickObjectMapsAlive } from './tick-object-maps.js';

export { GATEWAY_NODE_FLAGS } from './node-flags.js';

const V8_MAJOR = Number(process.versions.v8.split('.')[0]);

/** The V8 versions on which each in-process tweak was measured to be needed. */
export const TWEAKS_APPLY = {
  stringPrototype: V8_MAJOR >= 11 && V8_MAJOR <= 13,
  tickObjectMaps: V8_MAJOR >= 11 && V8_MAJOR <= 13,
} as const;

/** Applies the tweaks this runtime needs. Idempotent. */
export function applyRuntimeTweaks(): void {
  if (TWEAKS_APPLY.tickObjectMaps) keepTickObjectMapsAlive();
  if (TWEAKS_APPLY.stringPrototype) makeStringPrototypeFast();
}
