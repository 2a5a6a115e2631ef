/**
 * The web pages in a real browser: Debian's Chromium headless shell
 * (`chromium-headless-shell`, scripts/test-deps.sh installs it) driven by
 * playwright-core, which downloads no browser. Against `npx mail-lab web`
 * and a no-Docker lab 42 of its own (started here when it is not running,
 * and taken down again with its data): the instructor logs in (a wrong
 * password first), sees the Class grid and the Topology of lab 42, breaks
 * the link with the page's button and sees the drawing change, heals it from
 * the command line and sees the drawing change live, the same on the Class
 * grid, and in Indonesian; a student sees only their own pages. No console
 * error, no request from the page anywhere but the web server (never an
 * admin port). Screenshots: test/browser/artifacts/ (git-ignored).
 *
 * When no browser is found the suite FAILS (it never skips); see harness.ts.
 */
import type { Page } from 'playwright-core';
import { browserPath, ensureBuilt, launchBrowser, loginStudent, logout, mailLab, origins, requireBrowser, startLocalLab, startWeb, stopLocalLab, type BrowserSession, type LocalLab, type WebServer } from './harness';

jest.setTimeout(120_000);
const LAB = 42;

let lab: LocalLab | undefined;
let web: WebServer | undefined;
let browser: BrowserSession | undefined;
let base = '';
let page: Page;

const shot = (name: string) => browser!.shot(name);

beforeAll(async () => {
  if (!browserPath) return;
  await ensureBuilt();
  lab = await startLocalLab(LAB);
  web = await startWeb({ labs: String(LAB), lang: 'en' });
  base = web.base;
  browser = await launchBrowser();
  page = browser.page;
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await web?.stop();
  await stopLocalLab(lab);
}, 120_000);

const linkState = () => page.locator('#drawing [data-link-state]').getAttribute('data-link-state');

test('a browser is installed (chromium-headless-shell)', () => {
  requireBrowser();
});

test('the instructor logs in (one message for a wrong password) and sees the Class grid', async () => {
  await page.goto(`${base}/class`);
  expect(new URL(page.url()).pathname).toBe('/login');
  await expect(page.locator('.notice').textContent()).resolves.toContain('This page is for the instructor');
  await shot('01-login');
  await page.fill('input[name=account]', 'guru');
  await page.fill('input[name=password]', 'salah');
  await Promise.all([page.waitForLoadState('load'), page.click('form.login-form button[type=submit]')]);
  await expect(page.locator('.notice.error').textContent()).resolves.toBe('Login failed: the account, the password or the lab is not right.');
  await shot('02-login-failed');
  await page.fill('input[name=password]', 'rahasia123');
  await Promise.all([page.waitForURL(`${base}/class`), page.click('form.login-form button[type=submit]')]);
  const card = page.locator(`.lab-card[data-lab="${LAB}"]`);
  await card.waitFor();
  await expect(card.locator('.services li.up').count()).resolves.toBe(3);
  await expect(card.locator('[data-link-state]').getAttribute('data-link-state')).resolves.toBe('up');
  await page.locator('body[data-live="open"]').waitFor();
  await shot('03-class');
});

test('the Topology of the lab: the button breaks the link, the command line heals it, the drawing follows live', async () => {
  await page.click(`.lab-card[data-lab="${LAB}"] h2 a`);
  await page.waitForURL(`${base}/lab/${LAB}/topology`);
  await expect(linkState()).resolves.toBe('up');
  for (const text of ['mail.garudayaksa.com', 'mail.dadali.com', 'lab DNS', `172.29.${100 + LAB}.10`, `172.29.${100 + LAB}.20`, `172.29.${100 + LAB}.53`]) {
    await expect(page.locator('svg.topology').textContent()).resolves.toContain(text);
  }
  await page.locator('body[data-live="open"]').waitFor();
  await shot('04-topology');

  await page.click('.quick [data-quick-pair] button.danger');
  await page.locator('#drawing [data-link-state="cut"]').waitFor({ timeout: 5000 });
  await expect(page.locator('#action-result').textContent()).resolves.toContain('broken');
  await page.locator('#faults li').first().waitFor();
  await shot('05-topology-broken');

  // From outside the page (as `npx mail-lab heal` in a terminal): the drawing changes by the live event.
  await mailLab('heal', 'garudayaksa.com', 'dadali.com', '--lab', String(LAB));
  await page.locator('#drawing [data-link-state="up"]').waitFor({ timeout: 5000 });
  await page.locator('#faults .ok').waitFor({ timeout: 5000 });
  await shot('06-topology-healed-live');
});

test('the Class grid follows a break live, and heals every lab with its button', async () => {
  await page.goto(`${base}/class`);
  await page.locator('body[data-live="open"]').waitFor();
  const state = page.locator(`.lab-card[data-lab="${LAB}"] [data-link-state]`);
  await expect(state.getAttribute('data-link-state')).resolves.toBe('up');
  await mailLab('break', 'garudayaksa.com', 'dadali.com', '--lab', String(LAB));
  await page.locator(`.lab-card[data-lab="${LAB}"] [data-link-state="cut"]`).waitFor({ timeout: 5000 });
  await shot('07-class-broken-live');
  await page.click('.class-actions form:nth-of-type(2) button.ok');
  await page.locator('#action-result .results').waitFor();
  await expect(page.locator('#action-result .summary').textContent()).resolves.toBe('Done in 1 of 1 lab(s).');
  await page.locator(`.lab-card[data-lab="${LAB}"] [data-link-state="up"]`).waitFor({ timeout: 5000 });
  await shot('08-class-healed');
});

test('in Indonesian: the topology, an isolation and its badge', async () => {
  await page.goto(`${base}/lab/${LAB}/topology?lang=id`);
  await expect(page.locator('h1').textContent()).resolves.toBe(`Topologi lab ${LAB}`);
  await expect(page.locator('#drawing .link-label').textContent()).resolves.toBe('jalur SMTP tersambung');
  await page.locator('body[data-live="open"]').waitFor();
  await page.click('.control-row[data-domain="dadali.com"] > form:first-of-type button');
  await page.locator('#drawing [data-node="dadali.com"][data-isolated="true"]').waitFor({ timeout: 5000 });
  await expect(page.locator('#drawing [data-node="dadali.com"] .badge').first().textContent()).resolves.toBe('TERISOLASI');
  await page.locator('h1').scrollIntoViewIfNeeded();
  await shot('09-topology-id-isolated');
  await page.click('.control-row[data-domain="dadali.com"] > form:nth-of-type(2) button');
  await page.locator('#drawing [data-node="dadali.com"][data-isolated="false"]').waitFor({ timeout: 5000 });
  await page.goto(`${base}/class?lang=en`);
});

test('a student sees their own lab, not the instructor pages', async () => {
  await logout(page);
  await loginStudent(page, base, LAB, 'siswa1@garudayaksa.com');
  await expect(page.locator('header nav a').allTextContents()).resolves.toEqual(['Webmail', 'My lab']);
  await shot('10-student');
  await page.goto(`${base}/class`);
  expect(new URL(page.url()).pathname).toBe('/login');
});

test('no console error, and every request went to the web server (never an admin port)', () => {
  expect(browser!.consoleErrors).toEqual([]);
  expect(browser!.failed).toEqual([]);
  expect(origins(browser!.requests)).toEqual([base]);
  expect(browser!.requests.some((u) => u.includes('/live?'))).toBe(true);
});
