/**
 * What every browser test needs: Debian's Chromium headless shell
 * (`chromium-headless-shell`, scripts/test-deps.sh installs it) driven by
 * playwright-core, which downloads no browser; `npx mail-lab web` on a free
 * port; a no-Docker lab of the test's own (started when it is not running,
 * taken down with its data afterwards); logins; the console errors and the
 * requests of the page recorded; screenshots in test/browser/artifacts/
 * (git-ignored).
 *
 * A suite FAILS (never skips) when no browser is found: call
 * `requireBrowser()` in a test of its own. Install one with
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

export const root = join(__dirname, '../..');
export const cli = join(root, 'bin/mail-lab.js');
export const artifacts = join(__dirname, 'artifacts');

/** Where Debian puts the headless shell (the /usr/bin one is a shell wrapper around the binary). */
export const CANDIDATES = ['/usr/lib/chromium/chromium-headless-shell', '/usr/bin/chromium-headless-shell', '/usr/lib/chromium/chromium', '/usr/bin/chromium'];
const wanted = process.env.MAIL_LAB_CHROMIUM;
/** The browser to drive, or undefined when none is installed (or MAIL_LAB_CHROMIUM names none). */
export const browserPath: string | undefined = wanted ? (existsSync(wanted) ? wanted : undefined) : CANDIDATES.find((p) => existsSync(p));

/** The browser's path; throws with the install line when there is none (a suite fails, never skips). */
export function requireBrowser(): string {
  if (!browserPath) {
    throw new Error(
      `no Chromium found (looked at ${wanted ?? CANDIDATES.join(', ')}): apt-get install -y --no-install-recommends chromium-headless-shell fonts-dejavu-core (scripts/test-deps.sh), or set MAIL_LAB_CHROMIUM`,
    );
  }
  return browserPath;
}

/** Runs `mail-lab <args>` (the built CLI) and returns its output. */
export const mailLab = (...args: string[]) => run(process.execPath, [cli, ...args], { cwd: root, timeout: 120_000 });

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Newest modification time of the sources under dir. */
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

/** Rebuilds dist/ when a source is newer than it (mail-lab runs dist/). */
export async function ensureBuilt(): Promise<void> {
  const stamp = join(root, 'dist/scripts/cli.js');
  const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
  if (Math.max(newest(join(root, 'services')), newest(join(root, 'scripts'))) > built) {
    await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: root, timeout: 300_000 });
  }
}

export interface LocalLab {
  n: number;
  /** True when this test started it (and so takes it down). */
  startedHere: boolean;
}

/** A no-Docker lab n with no fault: started (`up --local --lab n`) when it is not running. */
export async function startLocalLab(n: number): Promise<LocalLab> {
  const status = await mailLab('status', '--lab', String(n)).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
  let startedHere = false;
  if (!/no-Docker/.test(status.stdout)) {
    await mailLab('up', '--local', '--lab', String(n));
    startedHere = true;
  }
  await mailLab('fault', 'clear', 'all', '--lab', String(n));
  return { n, startedHere };
}

/** Takes the lab (no-Docker or Docker) down with its data when this test started it; else clears its faults. */
export async function stopLocalLab(lab: LocalLab | undefined): Promise<void> {
  if (!lab) return;
  if (lab.startedHere) await mailLab('down', '--lab', String(lab.n), '--volumes').catch(() => undefined);
  else await mailLab('fault', 'clear', 'all', '--lab', String(lab.n)).catch(() => undefined);
}

/**
 * A Docker lab n (the compose lab the user starts with `npx mail-lab up`), with no fault: started
 * (`up --lab n`; builds the images when they are missing) when its services do not answer.
 * Take it down with {@link stopLocalLab}, which works for both modes.
 */
export async function startDockerLab(n: number): Promise<LocalLab> {
  const status = await mailLab('status', '--lab', String(n)).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
  let startedHere = false;
  if (/no-Docker/.test(status.stdout)) throw new Error(`lab ${n} runs without Docker here: take it down first (npx mail-lab down --lab ${n})`);
  if (/\bDOWN\b/.test(status.stdout)) {
    await run(process.execPath, [cli, 'up', '--lab', String(n)], { cwd: root, timeout: 900_000 });
    startedHere = true;
  }
  await mailLab('fault', 'clear', 'all', '--lab', String(n));
  return { n, startedHere };
}

export interface WebServer {
  /** http://127.0.0.1:PORT */
  base: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** `mail-lab web --labs <labs> --port <free> --lang <lang>`, resolved once it says its address. */
export async function startWeb(opts: { labs: string; lang?: 'en' | 'id' }): Promise<WebServer> {
  const port = await freePort();
  const web = spawn(process.execPath, [cli, 'web', '--labs', opts.labs, '--port', String(port), '--lang', opts.lang ?? 'en'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mail-lab web did not start: ${output}`)), 30_000);
    const read = (b: Buffer) => {
      output += b.toString();
      const m = /mail-lab web: (http:\/\/\S+?)\/? /.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    web.stdout!.on('data', read);
    web.stderr!.on('data', read);
    web.once('exit', (code) => reject(new Error(`mail-lab web exited (${code}): ${output}`)));
  });
  return {
    base,
    process: web,
    async stop() {
      if (web.exitCode !== null || web.signalCode !== null) return;
      const exited = new Promise((r) => web.once('exit', r));
      web.kill('SIGINT');
      await exited;
    },
  };
}

/** The browser flags the suites use (headless, no sandbox for root in CI, nothing fetched by the browser itself). */
export const BROWSER_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught page errors, with the page's URL. */
  consoleErrors: string[];
  /** Every URL the pages requested. */
  requests: string[];
  /** Requests that failed (an event stream ended by leaving the page is no failure). */
  failed: string[];
  /** A screenshot of the page into test/browser/artifacts/<name>.png. */
  shot(name: string, page?: Page): Promise<void>;
  close(): Promise<void>;
}

/** Records console errors, page errors, requests and failed requests of a page. */
export function recordPage(page: Page, into: Pick<BrowserSession, 'consoleErrors' | 'requests' | 'failed'>): void {
  page.on('console', (m) => {
    if (m.type() === 'error') into.consoleErrors.push(`${page.url()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => into.consoleErrors.push(`${page.url()}: ${e.message}`));
  page.on('request', (r) => into.requests.push(r.url()));
  page.on('requestfailed', (r) => {
    // An event stream ends when the page is left, and a request still under way then is cancelled
    // (net::ERR_ABORTED): neither is a failure.
    const error = r.failure()?.errorText ?? '';
    if (!/\/live\?/.test(r.url()) && error !== 'net::ERR_ABORTED') into.failed.push(`${r.url()}: ${error}`);
  });
}

/** Chromium with a fresh profile, one page (1280x720, a projector), recorded. */
export async function launchBrowser(opts: { locale?: string; viewport?: { width: number; height: number } } = {}): Promise<BrowserSession> {
  mkdirSync(artifacts, { recursive: true });
  const userDataDir = mkdtempSync(join(tmpdir(), 'mail-lab-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: requireBrowser(),
    headless: true,
    viewport: opts.viewport ?? { width: 1280, height: 720 },
    locale: opts.locale ?? 'en-US',
    args: BROWSER_ARGS,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const session: BrowserSession = {
    context,
    page,
    consoleErrors: [],
    requests: [],
    failed: [],
    async shot(name, p = page) {
      await p.screenshot({ path: join(artifacts, `${name}.png`) });
    },
    async close() {
      await context.close().catch(() => undefined);
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
  recordPage(page, session);
  context.on('page', (p) => {
    if (p !== page) recordPage(p, session);
  });
  return session;
}

/** Logs the instructor in through the login form and waits for `next` (default /class). */
export async function loginInstructor(page: Page, base: string, opts: { user?: string; password?: string; next?: string } = {}): Promise<void> {
  const next = opts.next ?? '/class';
  await page.goto(`${base}/login?next=${encodeURIComponent(next)}`);
  await page.fill('input[name=account]', opts.user ?? 'guru');
  await page.fill('input[name=password]', opts.password ?? 'rahasia123');
  await Promise.all([page.waitForURL((u) => u.pathname === next.split('?')[0]), page.click('form.login-form button[type=submit]')]);
}

/** Logs a student in on their lab's login page and waits for the lab's home page. */
export async function loginStudent(page: Page, base: string, lab: number, account: string, password = 'rahasia123'): Promise<void> {
  await page.goto(`${base}/lab/${lab}/login`);
  await page.fill('input[name=account]', account);
  await page.fill('input[name=password]', password);
  await Promise.all([page.waitForURL(`${base}/lab/${lab}/`), page.click('form.login-form button[type=submit]')]);
}

/** Logs out with the header's button. */
export async function logout(page: Page): Promise<void> {
  await Promise.all([page.waitForURL(/\/login/), page.click('form.logout button')]);
}

/** The origins the page requested, for "never an admin port". */
export function origins(requests: string[]): string[] {
  return [...new Set(requests.map((u) => new URL(u).origin))];
}
