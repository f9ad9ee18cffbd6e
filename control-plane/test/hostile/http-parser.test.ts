// What Node's HTTP parser refuses before any route runs, and the requests Node would otherwise
// answer itself with an empty body: each gets problem+json (431, 400, 408, 417) and, where the
// connection can no longer be trusted, a closed connection. Written byte by byte over TCP.
import t, { type Test } from 'tap';
import { problemType } from '../../../contracts/problem.js';
import { ADMIN_TOKEN, startTestApp } from '../helpers/test-app.js';
import { failuresLogged } from './helpers/expect-problem.js';
import { jsonOf, rawExchange, type RawAnswer } from './helpers/raw-socket.js';

// Short deadlines so slow clients can be shown in a test; production keeps 10 s and 60 s.
const app = await startTestApp('hostile_http', { httpTimeouts: { headersMs: 600, requestMs: 1500, checkIntervalMs: 100 } });
t.teardown(() => app.close());
const port = Number(new URL(app.baseUrl).port);

function expectRawProblem(t: Test, answer: RawAnswer, status: number, kind: string): void {
  t.equal(answer.status, status, 'status');
  t.equal(answer.headers['content-type'], 'application/problem+json', 'problem+json');
  const body = jsonOf(answer);
  t.equal(body?.type, problemType(kind), 'type');
  t.equal(body?.status, status, 'status in the body');
  if (answer.headers['transfer-encoding'] !== 'chunked') {
    t.equal(Number(answer.headers['content-length']), Buffer.byteLength(answer.body), 'a body of the length announced');
  }
}

const get = (target: string, headers = 'Host: control-plane\r\n') => `GET ${target} HTTP/1.1\r\n${headers}\r\n`;

t.test('headers over 16 KiB answer 431 problem+json and close', async (t) => {
  for (const [label, request] of [
    ['one long header', get('/healthz', `Host: cp\r\nX-Big: ${'a'.repeat(20_000)}\r\n`)],
    ['many small headers', get('/healthz', `Host: cp\r\n${Array.from({ length: 1000 }, (_, i) => `X-Header-${i}: value-${i}`).join('\r\n')}\r\n`)],
    ['a long URL', get(`/healthz?${'q'.repeat(20_000)}`)],
  ] as const) {
    const answer = await rawExchange(port, [request]);
    t.test(label, async (t) => {
      expectRawProblem(t, answer, 431, 'headers-too-large');
      t.ok(answer.closedByServer, 'the connection is closed');
    });
  }
});

t.test('bytes that are not HTTP/1.1 answer 400 bad-request and close', async (t) => {
  const cases: [string, string][] = [
    ['garbage', 'HELLO THERE\r\n\r\n'],
    ['an unknown method', 'BREW /healthz HTTP/1.1\r\nHost: cp\r\n\r\n'],
    ['a NUL in a header value', 'GET /healthz HTTP/1.1\r\nHost: cp\r\nX-A: a\u0000b\r\n\r\n'],
    ['a space in a header name', 'GET /healthz HTTP/1.1\r\nHost: cp\r\nX A: b\r\n\r\n'],
    ['a control character in the target', 'GET /heal\u0001thz HTTP/1.1\r\nHost: cp\r\n\r\n'],
    ['an obsolete folded header', 'GET /healthz HTTP/1.1\r\nHost: cp\r\nX-A: a\r\n  folded\r\n\r\n'],
    ['Content-Length with Transfer-Encoding', 'POST /v1/tiers HTTP/1.1\r\nHost: cp\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['two different Content-Lengths', 'POST /v1/tiers HTTP/1.1\r\nHost: cp\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde'],
    ['a Transfer-Encoding that does not end in chunked', 'POST /v1/tiers HTTP/1.1\r\nHost: cp\r\nTransfer-Encoding: chunked, gzip\r\n\r\n'],
    ['a bad HTTP version', 'GET /healthz HTTP/9.9\r\nHost: cp\r\n\r\n'],
  ];
  for (const [label, request] of cases) {
    const answer = await rawExchange(port, [request]);
    t.test(label, async (t) => {
      expectRawProblem(t, answer, 400, 'bad-request');
      t.ok(answer.closedByServer, 'the connection is closed');
    });
  }
});

const authorised = `Host: cp\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\nContent-Type: application/json\r\n`;

t.test('a chunked body with a bad chunk size answers 400 while the route reads it', async (t) => {
  const answer = await rawExchange(port, [`POST /v1/tiers HTTP/1.1\r\n${authorised}Transfer-Encoding: chunked\r\n\r\n`, 'zz\r\n{}\r\n0\r\n\r\n'], {
    gapMs: 50,
  });
  expectRawProblem(t, answer, 400, 'bad-request');
  t.ok(answer.closedByServer);
});

t.test('a second request after a good one on the same connection is refused without corrupting the first', async (t) => {
  const answer = await rawExchange(port, [get('/healthz') + 'NOT HTTP\r\n\r\n']);
  t.equal(answer.status, 200, 'the first answer comes whole');
  t.match(answer.rest, /^HTTP\/1\.1 400 Bad Request\r\n/, 'then the 400 for the garbage');
  t.match(answer.rest, /"type":"https:\/\/tollgate\.dev\/problems\/bad-request"/);
  t.ok(answer.closedByServer);
});

t.test('headers dribbled past the header deadline answer 408 problem+json and close', async (t) => {
  const parts = ['GET /healthz HTTP/1.1\r\n', 'Host: cp\r\n', 'X-A: 1\r\n', 'X-B: 2\r\n', 'X-C: 3\r\n', 'X-D: 4\r\n'];
  const answer = await rawExchange(port, parts, { gapMs: 300, deadlineMs: 5000 });
  expectRawProblem(t, answer, 408, 'request-timeout');
  t.equal(jsonOf(answer)?.title, 'Request Timeout');
  t.ok(answer.closedByServer, 'closed by the server, not by our deadline');
});

t.test('a body dribbled past the request deadline answers 408 and closes', async (t) => {
  const head = `POST /v1/tiers HTTP/1.1\r\n${authorised}Content-Length: 100\r\n\r\n`;
  const answer = await rawExchange(port, [head, ...Array.from({ length: 20 }, () => ' ')], { gapMs: 200, deadlineMs: 8000 });
  expectRawProblem(t, answer, 408, 'request-timeout');
  t.ok(answer.closedByServer, 'closed by the server, not by our deadline');
});

t.test('an HTTP/1.1 request without Host, or with two, answers 400 problem+json', async (t) => {
  const none = await rawExchange(port, ['GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n']);
  expectRawProblem(t, none, 400, 'missing-host');
  t.match(jsonOf(none)?.detail, 'must carry a Host field');
  const two = await rawExchange(port, ['GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n']);
  expectRawProblem(t, two, 400, 'bad-request');
  t.match(jsonOf(two)?.detail, 'more than one Host field');
  const old = await rawExchange(port, ['GET /healthz HTTP/1.0\r\n\r\n']);
  t.equal(old.status, 200, 'HTTP/1.0 needs no Host');
});

t.test('an Expect other than 100-continue answers 417 problem+json', async (t) => {
  const answer = await rawExchange(port, ['GET /healthz HTTP/1.1\r\nHost: cp\r\nExpect: teapot\r\nConnection: close\r\n\r\n']);
  expectRawProblem(t, answer, 417, 'expectation-failed');
  t.equal(jsonOf(answer)?.title, 'Expectation Failed');
  const continued = await rawExchange(port, [
    'POST /v1/tiers HTTP/1.1\r\nHost: cp\r\nExpect: 100-continue\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n',
    '{}',
  ]);
  t.equal(continued.status, 100, 'Expect: 100-continue still works: the interim 100 comes first');
  t.match(continued.rest, /^HTTP\/1\.1 401 /, 'then the answer (here: no token)');
});

t.test('CONNECT answers 405 problem+json with Allow, and closes', async (t) => {
  const answer = await rawExchange(port, ['CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n']);
  expectRawProblem(t, answer, 405, 'method-not-allowed');
  t.equal(answer.headers.allow, 'GET, HEAD, POST, PATCH, DELETE');
  t.match(jsonOf(answer)?.detail, 'CONNECT');
  t.ok(answer.closedByServer);
});

t.test('OPTIONS * and an absolute-form target reach the route table like any path', async (t) => {
  const star = await rawExchange(port, ['OPTIONS * HTTP/1.1\r\nHost: cp\r\nConnection: close\r\n\r\n']);
  expectRawProblem(t, star, 404, 'not-found');
  const absolute = await rawExchange(port, ['GET http://elsewhere.example/healthz HTTP/1.1\r\nHost: cp\r\nConnection: close\r\n\r\n']);
  t.equal(absolute.status, 200, 'the path of an absolute-form target is served');
});

t.test('the server still serves, and nothing was logged as a failure', async (t) => {
  t.equal((await fetch(`${app.baseUrl}/healthz`)).status, 200);
  t.same(failuresLogged(app.logs.lines), []);
});
