// HTML error pages for paths people browse (the admin UI's), problem+json everywhere else, and a
// page renderer that fails never takes the server down with it.
import t from 'tap';
import { startTestApp } from '../helpers/test-app.js';

let failing = false;
const ctx = await startTestApp('error_pages', {
  withDb: () => ({
    errorPage(pathname) {
      if (!pathname.startsWith('/admin')) return undefined;
      if (failing) throw new Error('the error page itself failed');
      return { status: 404, raw: '<p>friendly</p>', contentType: 'text/html; charset=utf-8' };
    },
  }),
});
t.teardown(() => ctx.close());

t.test('an unknown path under /admin gets the HTML page; elsewhere problem+json', async (t) => {
  const page = await fetch(`${ctx.baseUrl}/admin/nowhere`);
  t.equal(page.status, 404);
  t.equal(await page.text(), '<p>friendly</p>');
  const api = await fetch(`${ctx.baseUrl}/v1/nowhere`);
  t.equal(api.headers.get('content-type'), 'application/problem+json');
});

t.test('an error page that throws falls back to problem+json and the server keeps serving', async (t) => {
  failing = true;
  const answer = await fetch(`${ctx.baseUrl}/admin/nowhere`);
  t.equal(answer.status, 404);
  t.equal(answer.headers.get('content-type'), 'application/problem+json');
  t.ok(ctx.logs.lines.some((line) => line.includes('error page failed')), 'the failure is logged');
  t.equal((await fetch(`${ctx.baseUrl}/healthz`)).status, 200, 'still serving');
});
