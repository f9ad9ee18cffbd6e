// Node flags the gateway is started with (package.json `start:gateway` and `start`, the bench).
//
// --max-semi-space-size=32: a young generation of 2 × 32 MiB instead of V8's 2 × 16 MiB. A
// scavenge costs about what survives it, and what survives is mostly the requests in flight, so
// half as many scavenges cost about half the GC time; objects that live tens of milliseconds (batched
// request events, limiter calls) also outlive two scavenges less often and are promoted less. Measured
// with --trace-gc-nvp under 50 connections: 5.4 µs of scavenge pause per request at 16 MiB, 2.2 µs
// at 32 MiB and 2.6 µs at 64 MiB, and no mark-compact during the load at 32 MiB. It costs up to
// 32 MiB more memory.
export const GATEWAY_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32'];
