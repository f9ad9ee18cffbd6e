// The admin bearer token: every wrong form of it answers 401 problem+json, and the check compares
// fixed-length digests with timingSafeEqual on every path, so neither the token's length nor how
// far a guess matches shows in the time taken. (The comparison is checked by what the code calls,
// not by measuring time.)
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import crypto from 'node:crypto';
import t from 'tap';
import { createBearerCheck } from '../../src/http/auth.js';
import { ADMIN_TOKEN, startTestApp, type TestResponse } from '../helpers/test-app.js';
import { expectProblem, failuresLogged } from './helpers/expect-problem.js';

const app = await startTestApp('hostile_bearer');
t.teardown(() => app.close());

const wrongLast = ADMIN_TOKEN.slice(0, -1) + (ADMIN_TOKEN.endsWith('x') ? 'y' : 'x');
const WRONG_HEADERS: Record<string, string> = {
  'no value': '',
  'the scheme alone': 'Bearer',
  'the scheme and a space': 'Bearer ',
  'a one-character token': 'Bearer a',
  'a token one character short': `Bearer ${ADMIN_TOKEN.slice(0, -1)}`,
  'a token one character long': `Bearer ${ADMIN_TOKEN}0`,
  'a token of the right length, last character wrong': `Bearer ${wrongLast}`,
  'a 10 000-character token': `Bearer ${'t'.repeat(10_000)}`,
  'the token twice': `Bearer ${ADMIN_TOKEN} ${ADMIN_TOKEN}`,
  'Basic with the token': `Basic ${ADMIN_TOKEN}`,
  'Basic with user and token': `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}`,
  'Token scheme': `Token ${ADMIN_TOKEN}`,
  'no scheme': ADMIN_TOKEN,
  'Bearer glued to the token': `Bearer${ADMIN_TOKEN}`,
  'a quoted token': `Bearer "${ADMIN_TOKEN}"`,
  'SQL in the token': "Bearer ' OR 1=1 --",
};

t.test('every wrong Authorization answers 401 problem+json that does not echo it', async (t) => {
  for (const [label, authorization] of Object.entries(WRONG_HEADERS)) {
    const response = await app.call('GET', '/v1/tiers', undefined, { authorization });
    expectProblem(t, response, 401, 'unauthorized', label);
    if (authorization.length > 14) t.notOk(response.text.includes(authorization.slice(7)), `${label}: not echoed`);
  }
});

t.test('the scheme is case-insensitive and surrounding spaces do not matter', async (t) => {
  for (const authorization of [`bearer ${ADMIN_TOKEN}`, `BEARER ${ADMIN_TOKEN}`, `Bearer  ${ADMIN_TOKEN}`, `Bearer ${ADMIN_TOKEN} `]) {
    t.equal((await app.call('GET', '/v1/tiers', undefined, { authorization })).status, 200, JSON.stringify(authorization));
  }
});

/** GET with exactly these Authorization fields (fetch would merge two into one). */
function withAuthorizations(base: string, fields: readonly string[]): Promise<TestResponse> {
  return new Promise((resolve, reject) => {
    const url = new URL('/v1/tiers', base);
    const headers = ['host', url.host, ...fields.flatMap((value) => ['authorization', value])];
    const request = httpRequest(url, { headers }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        const headers = new Headers({ 'content-type': response.headers['content-type'] ?? '' });
        resolve({ status: response.statusCode ?? 0, headers, text, body: JSON.parse(text) });
      });
    });
    request.on('error', reject);
    request.end();
  });
}

t.test('two Authorization fields answer 401, even when the first holds the right token', async (t) => {
  const right = `Bearer ${ADMIN_TOKEN}`;
  expectProblem(t, await withAuthorizations(app.baseUrl, [right, 'Bearer wrong']), 401, 'unauthorized', 'right then wrong');
  expectProblem(t, await withAuthorizations(app.baseUrl, ['Bearer wrong', right]), 401, 'unauthorized', 'wrong then right');
  expectProblem(t, await withAuthorizations(app.baseUrl, [right, right]), 401, 'unauthorized', 'right twice');
});

t.test('every header reaches one timingSafeEqual of two 32-byte digests', async (t) => {
  const compared: [number, number][] = [];
  // Watched on node:crypto's module object, which auth.ts calls it on.
  const watched = crypto as { timingSafeEqual: typeof crypto.timingSafeEqual };
  const original = watched.timingSafeEqual;
  watched.timingSafeEqual = (a, b) => {
    compared.push([a.byteLength, b.byteLength]);
    return original(a, b);
  };
  t.teardown(() => {
    watched.timingSafeEqual = original;
  });
  const check = createBearerCheck(ADMIN_TOKEN);
  // The check runs on the requests a real server parsed, answering what it decided and compared.
  const server = createServer((request, response) => {
    compared.length = 0;
    let accepted = true;
    try {
      check(request);
    } catch {
      accepted = false;
    }
    response.end(JSON.stringify({ accepted, compared }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const cases: [string, string[], boolean][] = [
    ['no header', [], false],
    ...Object.entries(WRONG_HEADERS).map(([label, value]) => [label, [value], false] as [string, string[], boolean]),
    ['two fields', [`Bearer ${ADMIN_TOKEN}`, `Bearer ${ADMIN_TOKEN}`], false],
    ['the right token', [`Bearer ${ADMIN_TOKEN}`], true],
  ];
  for (const [label, fields, accepted] of cases) {
    const { body } = await withAuthorizations(base, fields);
    t.equal(body.accepted, accepted, `${label}: ${accepted ? 'accepted' : 'refused'}`);
    t.same(body.compared, [[32, 32]], `${label}: compared once, as two SHA-256 digests`);
  }
});

t.test('no token, right or wrong, reached the log', async (t) => {
  const text = app.logs.lines.join('\n');
  t.notOk(text.includes(ADMIN_TOKEN), 'not the admin token');
  t.notOk(text.includes(wrongLast), 'not a guess');
  t.same(failuresLogged(app.logs.lines), []);
});
