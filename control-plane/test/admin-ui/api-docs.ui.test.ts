// /docs in a real browser: Swagger UI, served by the control plane itself, renders every operation
// of /openapi.json, calls the API with the admin token, and nothing leaves the machine.
import t from 'tap';
import type { Request } from 'playwright-core';
import { ADMIN_TOKEN } from '../helpers/test-app.js';
import { startAdminTestApp } from './helpers/admin-app.js';
import { collectPageProblems, launchBrowser, screenshot } from './helpers/browser.js';

const app = await startAdminTestApp('admin_api_docs');
const browser = await launchBrowser();
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
const problems = collectPageProblems(page);
const requests: Request[] = [];
page.on('request', (request) => requests.push(request));
t.teardown(async () => {
  await browser.close();
  await app.close();
});

await app.call('POST', '/v1/tiers', { name: 'docs-tier', limits: [{ window: '1m', limit: 5 }] });
const document = (await app.call('GET', '/openapi.json')).body as { paths: Record<string, Record<string, { operationId: string; tags: string[] }>> };
const operations = Object.values(document.paths).flatMap((item) => Object.values(item));

await page.goto(`${app.baseUrl}/docs`);
await page.locator('.opblock').first().waitFor();

t.test('the reference renders every operation of /openapi.json', async (t) => {
  t.ok(operations.length >= 15, `${operations.length} operations in the document`);
  t.equal(await page.locator('.opblock').count(), operations.length, 'one block per operation');
  for (const operation of operations) {
    const id = `operations-${operation.tags[0]}-${operation.operationId}`;
    t.equal(await page.locator(`[id="${id}"]`).count(), 1, operation.operationId);
  }
  await screenshot(page, 'api-docs');
});

t.test('try it out calls the control plane with the admin token', async (t) => {
  await page.getByRole('button', { name: /Authorize/ }).first().click();
  await page.locator('#auth-bearer-value').fill(ADMIN_TOKEN);
  await page.getByRole('button', { name: 'Apply credentials' }).click();
  await page.locator('.auth-btn-wrapper .btn-done').click();
  const block = page.locator('[id="operations-tiers-getV1Tiers"]');
  await block.locator('.opblock-summary').click();
  await block.getByRole('button', { name: 'Try it out' }).click();
  const answered = page.waitForResponse((response) => response.url() === `${app.baseUrl}/v1/tiers`);
  await block.getByRole('button', { name: 'Execute' }).click();
  const response = await answered;
  t.equal(response.status(), 200);
  t.equal(response.request().headers().authorization, `Bearer ${ADMIN_TOKEN}`);
  const status = block.locator('.live-responses-table tbody .response-col_status').first();
  await status.waitFor();
  t.match(await status.textContent(), '200', 'the status is shown');
  t.match(await block.locator('.live-responses-table').textContent(), 'docs-tier', 'the answer is shown');
  await screenshot(page, 'api-docs-try-it');
});

t.test('no request leaves the machine and the page breaks no CSP rule', async (t) => {
  t.ok(requests.length > 3);
  const elsewhere = requests.map((request) => request.url()).filter((url) => !url.startsWith(`${app.baseUrl}/`) && !url.startsWith('data:'));
  t.same(elsewhere, [], 'every request went to the control plane');
  t.same(problems, [], 'no script error or CSP refusal');
});
