// One Chromium per test file (playwright-core driving the machine's /usr/bin/chromium), and
// screenshots of pages at desktop and phone width into test-screenshots/ (git-ignored) for people
// to look at.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Test } from 'tap';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export const DESKTOP = { width: 1280, height: 800 } as const;
export const PHONE = { width: 390, height: 844 } as const;

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const SCREENSHOT_DIR = join(ROOT, 'test-screenshots', 'admin-ui');

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

/** Full-page screenshots of what `page` shows, at desktop and at phone width. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const before = page.viewportSize() ?? DESKTOP;
  await page.setViewportSize(DESKTOP);
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.desktop.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.phone.png`), fullPage: true });
  await page.setViewportSize(before);
}

export async function signIn(page: Page, baseUrl: string, username: string, password: string): Promise<void> {
  await page.goto(`${baseUrl}/admin/login`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.pathname !== '/admin/login');
}

/** Problems a page reported: script errors, CSP refusals, subresources that failed to load. */
export function collectPageProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    // A page answered with 4xx on purpose (a refused form, a 404 page) is logged like this; the
    // subresources that page needs are checked through 'requestfailed' and 'response' below.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource: the server responded with a status of')) {
      problems.push(`console error: ${message.text()}`);
    }
  });
  page.on('requestfailed', (request) => {
    // ERR_ABORTED: the test moved on to the next page while this one was still loading.
    const reason = request.failure()?.errorText ?? '';
    if (reason !== 'net::ERR_ABORTED') problems.push(`request failed: ${request.url()} ${reason}`);
  });
  page.on('response', (response) => {
    if (response.request().resourceType() !== 'document' && response.status() >= 400) {
      problems.push(`subresource ${response.url()} answered ${response.status()}`);
    }
  });
  return problems;
}

/**
 * A browser and one desktop-sized page for a test file, closed when the file ends; a script error,
 * CSP refusal or failed subresource on any page fails the test that caused it.
 */
export async function openCheckedPage(tap: Pick<Test, 'afterEach' | 'teardown' | 'fail'>): Promise<{ browser: Browser; context: BrowserContext; page: Page }> {
  const browser = await launchBrowser();
  const context = await browser.newContext({ viewport: DESKTOP });
  const page = await context.newPage();
  const problems = collectPageProblems(page);
  tap.afterEach(() => {
    const found = problems.splice(0);
    if (found.length > 0) tap.fail(`the page reported problems:\n${found.join('\n')}`);
  });
  tap.teardown(() => browser.close());
  return { browser, context, page };
}
