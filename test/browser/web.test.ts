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
 * When no browser is found the suite FAILS (it never skips): install it with
 * `apt-get install -y --no-install-recommends chromium-headless-shell fonts-dejavu-core`,
 * or name one with MAIL_LAB_CHROMIUM=/path/to/chrome.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

const run = promisify(execFile);
jest.setTimeout(120_000);
const root = join(__dirname, '../..');
const cli = join(root, 'bin/mail-lab.js');
const artifacts = join(__dirname, 'artifacts');
const LAB = 42;

/** Where Debian puts the headless shell (the /usr/bin one is a shell wrapper around the binary). */
const CANDIDATES = ['/usr/lib/chromium/chromium-headless-shell', '/usr/bin/chromium-headless-shell', '/usr/lib/chromium/chromium', '/usr/bin/chromium'];
const wanted = process.env.MAIL_LAB_CHROMIUM;
const browserPath = wanted ? (existsSync(wanted) ? wanted : undefined) : CANDIDATES.find((p) => existsSync(p));

const mailLab = (...args: string[]) => run(process.execPath, [cli, ...args], { cwd: root, timeout: 120_000 });

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Newest modification time of the sources, to rebuild dist/ when it is older (mail-lab runs dist/). */
function newest(dir: string): number {
  let t = 0;
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    const s = statSync(p);
    if (s.isDirectory()) t = Math.max(t, newest(p));
    else if (/\.tsx?$/.test(f)) t = Math.max(t, s.mtimeMs);
  }
  return t;
}

let labStartedHere = false;
let web: ChildProcess | undefined;
let base = '';
let context: BrowserContext | undefined;
let page: Page;
let userDataDir = '';
const consoleErrors: string[] = [];
const requests: string[] = [];
const failed: string[] = [];

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(artifacts, `${name}.png`) });
}

beforeAll(async () => {
  if (!browserPath) return;
  mkdirSync(artifacts, { recursive: true });
  const built = existsSync(join(root, 'dist/scripts/cli.js')) ? statSync(join(root, 'dist/scripts/cli.js')).mtimeMs : 0;
  if (Math.max(newest(join(root, 'services')), newest(join(root, 'scripts'))) > built) {
    await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: root, timeout: 300_000 });
  }
  const status = await mailLab('status', '--lab', String(LAB)).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
  if (!/no-Docker/.test(status.stdout)) {
    await mailLab('up', '--local', '--lab', String(LAB));
    labStartedHere = true;
  }
  await mailLab('fault', 'clear', 'all', '--lab', String(LAB));

  const port = await freePort();
  web = spawn(process.execPath, [cli, 'web', '--labs', String(LAB), '--port', String(port), '--lang', 'en'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mail-lab web did not start: ${output}`)), 30_000);
    const read = (b: Buffer) => {
      output += b.toString();
      const m = /mail-lab web: (http:\/\/\S+?)\/? /.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    web!.stdout!.on('data', read);
    web!.stderr!.on('data', read);
    web!.once('exit', (code) => reject(new Error(`mail-lab web exited (${code}): ${output}`)));
  });

  userDataDir = mkdtempSync(join(tmpdir(), 'mail-lab-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: browserPath,
    headless: true,
    viewport: { width: 1280, height: 720 },
    locale: 'en-US',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(`${page.url()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => consoleErrors.push(`${page.url()}: ${e.message}`));
  page.on('request', (r) => requests.push(r.url()));
  page.on('requestfailed', (r) => {
    // An event stream ends when the page is left: that is no failure.
    if (!/\/live\?/.test(r.url())) failed.push(`${r.url()}: ${r.failure()?.errorText}`);
  });
}, 300_000);

afterAll(async () => {
  await context?.close().catch(() => undefined);
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  if (web && web.exitCode === null) {
    const exited = new Promise((r) => web!.once('exit', r));
    web.kill('SIGINT');
    await exited;
  }
  if (labStartedHere) await mailLab('down', '--lab', String(LAB), '--volumes').catch(() => undefined);
  else await mailLab('fault', 'clear', 'all', '--lab', String(LAB)).catch(() => undefined);
}, 120_000);

const linkState = () => page.locator('#drawing [data-link-state]').getAttribute('data-link-state');

test('a browser is installed (chromium-headless-shell)', () => {
  if (!browserPath) {
    throw new Error(
      `no Chromium found (looked at ${wanted ?? CANDIDATES.join(', ')}): apt-get install -y --no-install-recommends chromium-headless-shell fonts-dejavu-core (scripts/test-deps.sh), or set MAIL_LAB_CHROMIUM`,
    );
  }
  expect(existsSync(browserPath)).toBe(true);
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
  await Promise.all([page.waitForURL(/\/login/), page.click('form.logout button')]);
  await page.goto(`${base}/lab/${LAB}/login`);
  await page.fill('input[name=account]', 'siswa1@garudayaksa.com');
  await page.fill('input[name=password]', 'rahasia123');
  await Promise.all([page.waitForURL(`${base}/lab/${LAB}/`), page.click('form.login-form button[type=submit]')]);
  await expect(page.locator('header nav a').allTextContents()).resolves.toEqual(['Webmail', 'My lab']);
  await shot('10-student');
  await page.goto(`${base}/class`);
  expect(new URL(page.url()).pathname).toBe('/login');
});

test('no console error, and every request went to the web server (never an admin port)', () => {
  expect(consoleErrors).toEqual([]);
  expect(failed).toEqual([]);
  const origins = new Set(requests.map((u) => new URL(u).origin));
  expect([...origins]).toEqual([base]);
  expect(requests.some((u) => u.includes('/live?'))).toBe(true);
});
