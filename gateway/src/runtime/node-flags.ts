// Node flags the gateway is started with (package.json `start:gateway` and `start`, the bench).
//
// --max-semi-space-size=32: a young generation of 2 × 32 MiB instead of V8's 2 × 16 MiB. A
// scavenge costs about what survives it, and what survives is mostly the requests in flight, so
// half as many scavenges cost about half the GC time; objects that live tens of milliseconds (batched
// request events, limiter calls) also outlive two scavenges less often and are promoted less. Measured
// with --trace-gc-nvp under 50 connections: 5.4 µs of scavenge pause per request at 16 MiB, 2.2 µs
// at 32 MiB and 2.6 µs at 64 MiB, and no mark-compact during the load at 32 MiB. It costs up to
// 32 MiB more memory.
//
// --min-semi-space-size=32 and --no-memory-reducer: a gateway that goes quiet (a night, a pause
// between bursts) must not come back slow. With V8's defaults, after some idle seconds the young
// generation shrinks to 1 MiB, and the next burst runs a scavenge every 10–20 ms until it has grown
// back (--trace-gc); and the memory reducer runs full GCs while idle, which collect the maps of
// per-request objects, so V8 throws away the optimised code of the whole hot path (127 functions
// "marked for deoptimization, reason: weak objects" during one 60 s idle, --trace-deopt) and
// compiles it again under load. Either way the first seconds after an idle spell cost 2–3× the CPU
// per request. With both flags the heap keeps its size while idle (no full GC, no shrinking).
export const GATEWAY_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32', '--min-semi-space-size=32', '--no-memory-reducer'];
