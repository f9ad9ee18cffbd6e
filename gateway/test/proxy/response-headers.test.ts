// The upstream's response header fields as the gateway passes them to Node: undici hands them over
// as byte views, and they must come out as the same latin1 text (names lower-cased) whatever chunks
// they arrived in.
import t from 'tap';
import { clientResponseHeaders } from '../../src/proxy/headers.js';

const HEAD = 'Content-Type: text/plain\r\nX-Name: caf\xe9\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nConnection: keep-alive\r\n';

/** The head's fields as undici gives them: [name, value, …] views into `chunk`. */
function fieldViews(chunk: Buffer): Buffer[] {
  const views: Buffer[] = [];
  let at = 0;
  for (const line of HEAD.split('\r\n').filter(Boolean)) {
    const colon = line.indexOf(':');
    views.push(chunk.subarray(at, at + colon), chunk.subarray(at + colon + 2, at + line.length));
    at += line.length + 2;
  }
  return views;
}

const EXPECTED = ['content-type', 'text/plain', 'x-name', 'caf\u00e9', 'set-cookie', 'a=1', 'set-cookie', 'b=2'];

t.test('fields that are views of one chunk come out as their latin1 text with lower-case names, in order, hop-by-hop ones left out', async (t) => {
  const chunk = Buffer.from(`HTTP/1.1 200 OK\r\n${HEAD}\r\nbody`, 'latin1');
  const views = fieldViews(chunk.subarray('HTTP/1.1 200 OK\r\n'.length));
  t.same(clientResponseHeaders(views), EXPECTED);
});

t.test('fields from different chunks come out the same', async (t) => {
  // Buffer.alloc never shares memory (small Buffer.from copies share Node's pool).
  const views = fieldViews(Buffer.from(HEAD, 'latin1')).map((view) => {
    const copy = Buffer.alloc(view.length);
    view.copy(copy);
    return copy;
  });
  t.same(clientResponseHeaders(views), EXPECTED);
});

t.test("the gateway's fields follow the upstream's", async (t) => {
  const views = fieldViews(Buffer.from(HEAD, 'latin1'));
  t.same(clientResponseHeaders(views, ['ratelimit', '"1m";r=4;t=60']), [...EXPECTED, 'ratelimit', '"1m";r=4;t=60']);
});
