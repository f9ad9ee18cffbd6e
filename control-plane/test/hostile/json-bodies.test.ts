// JSON bodies built to hurt: malformed, nested 100 000 deep, bombs (huge strings, numbers, key
// counts), huge arrays, unknown and prototype-named fields, out-of-range dates, and bodies whose
// Content-Type is wrong, missing or given twice. Each gets a small 4xx problem+json, quickly.
import { request as httpRequest } from 'node:http';
import t from 'tap';
import { MAX_REPORTED_ERRORS } from '../../src/http/validate.js';
import { VALIDATION_MESSAGES } from '../../src/http/validation-messages.js';
import { ADMIN_TOKEN, startTestApp, type TestResponse } from '../helpers/test-app.js';
import { expectFieldError, expectProblem, failuresLogged } from './helpers/expect-problem.js';

const app = await startTestApp('hostile_json');
t.teardown(() => app.close());

const LIMITS = [{ window: '1m', limit: 5 }];
await app.call('POST', '/v1/tiers', { name: 'basic', limits: LIMITS });
const MiB = 1024 * 1024;

/** A request with exactly these header fields (repeats kept), for what fetch will not send. */
function rawCall(method: string, path: string, headers: [string, string][], body: string): Promise<TestResponse> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, app.baseUrl);
    // Given as a list, the fields are sent exactly so: Host too must be listed.
    const fields = [['host', url.host], ...headers].flat();
    const request = httpRequest(url, { method, headers: fields }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        const answered = new Headers();
        for (const [name, value] of Object.entries(response.headers)) if (typeof value === 'string') answered.set(name, value);
        resolve({ status: response.statusCode ?? 0, headers: answered, text, body: JSON.parse(text) });
      });
    });
    request.on('error', reject);
    request.end(body);
  });
}

t.test('malformed JSON answers 400 malformed-json', async (t) => {
  for (const body of ['{', '{"name": "x",}', "{'name': 'x'}", '{"name": undefined}', 'NaN', '', '\u0000', '{"a":1}{"b":2}', '\ufeff{}']) {
    expectProblem(t, await app.call('POST', '/v1/tiers', body), 400, 'malformed-json', JSON.stringify(body));
  }
});

t.test('100 000 levels of nesting answer 400, closed or not, without exhausting the stack', async (t) => {
  const depth = 100_000;
  expectProblem(t, await app.call('POST', '/v1/tiers', '['.repeat(depth)), 400, 'malformed-json', 'unclosed');
  const closed = await app.call('POST', '/v1/tiers', '['.repeat(depth) + ']'.repeat(depth));
  expectFieldError(t, closed, '', 'must be a JSON object', 'closed at the top');
  const inField = await app.call('POST', '/v1/tiers', `{"name":"deep","limits":${'['.repeat(depth)}${']'.repeat(depth)}}`);
  expectProblem(t, inField, 400, 'validation-failed', 'inside a field');
  const objects = await app.call('POST', '/v1/tiers', `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
  expectProblem(t, objects, 400, 'validation-failed', 'nested objects');
});

t.test('a half-megabyte-deep NUL at the bottom of nested arrays is still found and named', async (t) => {
  const depth = 200_000;
  const response = await app.call('POST', '/v1/tiers', `{"limits":${'['.repeat(depth)}"\\u0000"${']'.repeat(depth)}}`);
  expectProblem(t, response, 400, 'validation-failed');
  t.match(response.body.errors[0].path, /^limits(\.0)+$/);
  t.equal(response.body.errors[0].path.split('.').length, depth + 1, 'the path goes all the way down');
});

t.test('a string of almost 1 MiB answers 400 naming the field, not 500', async (t) => {
  const name = await app.call('POST', '/v1/keys', { name: 'x'.repeat(MiB - 100), tier: 'basic' });
  expectFieldError(t, name, 'name', 'must be at most 200 characters long');
  const description = await app.call('POST', '/v1/tiers', { name: 'long', description: 'y'.repeat(MiB - 100), limits: LIMITS });
  expectFieldError(t, description, 'description', 'must be at most 1000 characters long');
});

t.test('a body over 1 MiB answers 413, however it is made up', async (t) => {
  const million = `{"name":"big","limits":[${Array(1_000_000).fill('{"window":"1m","limit":1}').join(',')}]}`;
  expectProblem(t, await app.call('POST', '/v1/tiers', million), 413, 'payload-too-large', 'a million limits');
  const ones = `{"name":"big","limits":[${Array(1_000_000).fill('1').join(',')}]}`;
  expectProblem(t, await app.call('POST', '/v1/tiers', ones), 413, 'payload-too-large', 'a million numbers');
});

t.test('half a million items in one list answer 400 with a short list of errors', async (t) => {
  const items = `{"name":"wide","limits":[${Array(500_000).fill('1').join(',')}]}`;
  t.ok(items.length < MiB, 'the body fits under the size limit');
  const response = await app.call('POST', '/v1/tiers', items);
  expectProblem(t, response, 400, 'validation-failed');
  t.ok(response.body.errors.length <= MAX_REPORTED_ERRORS, `at most ${MAX_REPORTED_ERRORS} errors`);
  t.ok(response.text.length < 4096, `a small answer (${response.text.length} bytes)`);
});

t.test('60 000 unknown fields answer 400 listing the first few, not all of them', async (t) => {
  const fields = Array.from({ length: 60_000 }, (_, index) => `"f${index}":0`).join(',');
  const response = await app.call('POST', '/v1/tiers', `{"name":"many","limits":[{"window":"1m","limit":1}],${fields}}`);
  expectProblem(t, response, 400, 'validation-failed');
  t.equal(response.body.errors.length, MAX_REPORTED_ERRORS);
  t.same(response.body.errors[0], { path: 'f0', message: 'unknown field' });
  t.match(response.body.detail, `the first ${MAX_REPORTED_ERRORS} of 60000 problems`);
  t.ok(response.text.length < 4096, `a small answer (${response.text.length} bytes)`);
});

t.test('unknown and prototype-named fields are refused as unknown, at every level', async (t) => {
  const top = await app.call('POST', '/v1/tiers', '{"name":"proto","limits":[{"window":"1m","limit":1}],"__proto__":{"admin":true}}');
  expectFieldError(t, top, '__proto__', 'unknown field', '__proto__ at the top');
  const constructor = await app.call('POST', '/v1/keys', { name: 'c', tier: 'basic', constructor: { prototype: {} } });
  expectFieldError(t, constructor, 'constructor', 'unknown field', 'constructor');
  const inner = await app.call('POST', '/v1/tiers', '{"name":"proto2","limits":[{"window":"1m","limit":1,"__proto__":{}}]}');
  expectFieldError(t, inner, 'limits.0.__proto__', 'unknown field', '__proto__ inside a limit');
  const patch = await app.call('PATCH', '/v1/tiers/basic', { description: 'x', secret_hash: 'y' });
  expectFieldError(t, patch, 'secret_hash', 'unknown field', 'a column name');
  t.same(({} as Record<string, unknown>).admin, undefined, 'no prototype was polluted');
});

t.test('numbers too large, too precise or of the wrong kind answer 400 naming the field', async (t) => {
  const cases: [string, string | RegExp][] = [
    ['1e999', VALIDATION_MESSAGES.finiteNumber],
    ['-1e999', VALIDATION_MESSAGES.finiteNumber],
    ['9'.repeat(400), VALIDATION_MESSAGES.finiteNumber],
    ['1e308', 'must be at most 1000000000'],
    ['1000000001', 'must be at most 1000000000'],
    ['1.5', 'must be a whole number'],
    ['1e-400', 'must be at least 1'],
    ['-1', 'must be at least 1'],
    ['"5"', 'must be a number'],
    ['true', 'must be a number'],
    ['[5]', 'must be a number'],
    ['null', 'must be a number'],
  ];
  for (const [number, message] of cases) {
    const response = await app.call('POST', '/v1/tiers', `{"name":"numbers","limits":[{"window":"1m","limit":${number}}]}`);
    expectFieldError(t, response, 'limits.0.limit', message, number.slice(0, 20));
  }
});

t.test('date-times PostgreSQL cannot hold answer 400 naming the field', async (t) => {
  const cases: [string, string][] = [
    ['9999-12-31T23:59:59-14:00', VALIDATION_MESSAGES.dateTimeRange],
    ['2026-02-31T00:00:00Z', VALIDATION_MESSAGES.dateTime],
    ['2026-13-01T00:00:00Z', VALIDATION_MESSAGES.dateTime],
    ['+275760-09-13T00:00:00Z', VALIDATION_MESSAGES.dateTime],
    ['tomorrow', VALIDATION_MESSAGES.dateTime],
  ];
  for (const [value, message] of cases) {
    const create = await app.call('POST', '/v1/keys', { name: 'dated', tier: 'basic', expires_at: value });
    expectFieldError(t, create, 'expires_at', message, `expires_at ${value}`);
  }
  for (const value of ['0000-01-01T00:00:00Z', '9999-12-31T23:59:59-14:00', '2026-02-31T00:00:00Z']) {
    const cursor = Buffer.from(JSON.stringify([value, 'key_x'])).toString('base64url');
    expectFieldError(t, await app.call('GET', `/v1/keys?cursor=${cursor}`), 'cursor', 'is not a cursor returned by this list', `a cursor at ${value}`);
  }
});

t.test('a forged audit cursor past the largest bigint answers 400, not 500', async (t) => {
  const cursor = Buffer.from(JSON.stringify(['9999999999999999999'])).toString('base64url');
  expectFieldError(t, await app.call('GET', `/v1/audit-log?cursor=${cursor}`), 'cursor');
});

t.test('a body that is not application/json answers 415, whatever it claims to be', async (t) => {
  const body = JSON.stringify({ name: 'typed', limits: LIMITS });
  for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'text/json', 'application/jsonx', 'application/json-seq', 'application/problem+json', 'application/json, text/plain', 'multipart/form-data; boundary=x', '']) {
    const response = await app.call('POST', '/v1/tiers', body, { 'content-type': type });
    expectProblem(t, response, 415, 'unsupported-media-type', type || 'empty');
  }
  const latin1 = await app.call('POST', '/v1/tiers', body, { 'content-type': 'application/json; charset=iso-8859-1' });
  expectProblem(t, latin1, 415, 'unsupported-media-type', 'a charset other than UTF-8');
  const utf8 = await app.call('POST', '/v1/tiers', body, { 'content-type': 'Application/JSON; Charset="UTF-8"' });
  t.equal(utf8.status, 201, 'application/json with charset=utf-8, in any case, is JSON');
});

t.test('a body without Content-Type answers 415', async (t) => {
  const response = await rawCall('POST', '/v1/tiers', [['authorization', `Bearer ${ADMIN_TOKEN}`]], JSON.stringify({ name: 'untyped', limits: LIMITS }));
  expectProblem(t, response, 415, 'unsupported-media-type');
});

t.test('two Content-Type fields answer 415, even when both say JSON', async (t) => {
  const body = JSON.stringify({ name: 'twice', limits: LIMITS });
  for (const second of ['text/plain', 'application/json']) {
    const response = await rawCall(
      'POST',
      '/v1/tiers',
      [
        ['authorization', `Bearer ${ADMIN_TOKEN}`],
        ['content-type', 'application/json'],
        ['content-type', second],
      ],
      body,
    );
    expectProblem(t, response, 415, 'unsupported-media-type', `then ${second}`);
    t.match(response.body.detail, 'more than one Content-Type');
  }
  t.equal((await app.call('GET', '/v1/tiers/twice')).status, 404, 'nothing was created');
});

t.test('none of these bodies was logged as a failure', async (t) => {
  t.same(failuresLogged(app.logs.lines), []);
});
