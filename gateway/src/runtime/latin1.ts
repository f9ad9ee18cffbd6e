// Header bytes as text. Node writes response heads as latin1, and undici hands the upstream's header
// values over as bytes, so each value is decoded as latin1.
//
// On Node 20 (V8 11) `buf.toString('latin1')` is a generic property lookup in the optimised code and
// then looks the encoding up by name: calling Buffer's own latin1Slice directly took 61 ns a value
// instead of 114 ns (about 0.5 µs per proxied response with ten fields). On Node 22 and 24 the two
// cost the same (68 against 71 ns), so the plain call is used there.
type Latin1Slice = (this: Uint8Array, start: number, end: number) => string;

const NODE_MAJOR = Number(process.versions.node.split('.')[0]);
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice?: Latin1Slice }).latin1Slice;

function viaSlice(raw: Buffer): string {
  return (latin1Slice as Latin1Slice).call(raw, 0, raw.length);
}

function viaToString(raw: Buffer): string {
  return raw.toString('latin1');
}

/** Whether this Node gains from the direct call (see above). */
export const LATIN1_SLICE_APPLIES = NODE_MAJOR <= 20 && typeof latin1Slice === 'function';

export const latin1Text: (raw: Buffer) => string = LATIN1_SLICE_APPLIES ? viaSlice : viaToString;
