// ioredis defines `class VerbatimString extends String` when it loads. Making a class whose parent
// is String turns String.prototype into a dictionary (V8's "prototype setup mode"), and V8 11 to 13
// (Node 20 to 24) do not make it fast again on their own. From then on every string method call in optimised code, ours and
// undici's (`text.slice(…)`, `.indexOf(…)`, `.toLowerCase()`), is a generic property lookup of about a
// hundred instructions instead of an inlined call (callgrind and --print-opt-code,
// docs/performance.md). V8 makes a prototype fast again when an inline cache looks a property up through it
// on an ordinary object: doing that once, after every module has loaded, restores String.prototype.

/** Call once at start, after every module has loaded. Idempotent. */
export function makeStringPrototypeFast(): void {
  const probe = Object.create(String.prototype) as { slice?: unknown };
  // Inline caches live in a function's feedback vector, which V8 allocates only after the function
  // has run for a while: a thousand calls are far past that and take microseconds.
  for (let i = 0; i < 1000; i += 1) lookUpSlice(probe);
}

function lookUpSlice(target: { slice?: unknown }): unknown {
  return target.slice;
}
