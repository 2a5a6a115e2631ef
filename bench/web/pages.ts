/**
 * The instructor's live lab pages in Chromium (issue 12): on a no-Docker
 * lab 44 started here with the CLI (`up --local --lab 44`, taken down with
 * its data at the end when it was started here) and `mail-lab web` on a free
 * loopback port, Debian's chromium-headless-shell driven by playwright-core:
 *
 * 1. first paint of each page (Queue, Message path of a message, the path
 *    following the newest message, Mailbox file, DNS): the page's own
 *    `performance` paint entries (first-contentful-paint) after a fresh
 *    navigation; one cold load (nothing cached), then `loads` warm ones
 *    (median and max);
 * 2. mailbox append → the message shown on the path page: /path/latest open,
 *    `messages` messages sent one at a time (submission port 587) from
 *    mbrain@garudayaksa.com to jpri@dadali.com; for each, from the time of
 *    the `mailbox.append` event (the dadali.com server's clock, taken when
 *    the append is done) until the page has the mailbox row of that message
 *    (a MutationObserver in the page, same host clock). Aim < 200 ms.
 *
 * Bounded (counts and a deadline); nothing leaves 127.0.0.1.
 *
 *   node dist/bench/web/pages.js [--loads 5] [--messages 10]
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import nodemailer from 'nodemailer';
import { chromium, type Page } from 'playwright-core';
import { type LabEvent } from '../../services/core/src/admin/api';
import { followEvents } from '../../services/core/src/admin/event-stream';
import { loadLabConfig } from '../../services/core/src/config';
import { deriveLab } from '../../services/core/src/labs';
import { repoRoot } from '../../scripts/lab-docker';
import { labTarget } from '../../scripts/lab-target';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const BENCH_LAB = 44;
const BROWSERS = ['/usr/lib/chromium/chromium-headless-shell', '/usr/bin/chromium-headless-shell', '/usr/lib/chromium/chromium', '/usr/bin/chromium'];

export interface PagePaint {
  page: string;
  path: string;
  coldMs: number | null;
  warmMedianMs: number | null;
  warmMaxMs: number | null;
  loads: number;
}

export interface WebPagesResults {
  lab: number;
  firstPaint: PagePaint[];
  appendToShown: { samples: number; medianMs: number; p95Ms: number; maxMs: number; valuesMs: number[] } | null;
  errors: string[];
}

export interface WebPagesOptions {
  /** Warm loads of each page. @default 5 */
  loads?: number;
  /** Messages for append → shown. @default 10 */
  messages?: number;
  /** Stops whatever is left after this long. @default 180 s */
  deadlineMs?: number;
  log?: (line: string) => void;
}

const median = (v: number[]) => (v.length ? [...v].sort((a, b) => a - b)[Math.floor((v.length - 1) / 2)] : NaN);
const quantile = (v: number[], q: number) => (v.length ? [...v].sort((a, b) => a - b)[Math.min(v.length - 1, Math.ceil(q * v.length) - 1)] : NaN);
const round = (n: number) => Math.round(n * 10) / 10;

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

const cli = (args: string[], timeoutMs = 120_000) => run(process.execPath, [join(repoRoot(), 'bin/mail-lab.js'), ...args], { cwd: repoRoot(), timeout: timeoutMs });

async function startWeb(lab: number): Promise<{ base: string; proc: ChildProcess }> {
  const port = await freePort();
  const proc = spawn(process.execPath, [join(repoRoot(), 'bin/mail-lab.js'), 'web', '--labs', String(lab), '--port', String(port), '--lang', 'en'], { cwd: repoRoot(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mail-lab web did not start: ${out}`)), 30_000);
    const read = (b: Buffer) => {
      out += b.toString();
      const m = /mail-lab web: (http:\/\/\S+?)\/? /.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    proc.stdout!.on('data', read);
    proc.stderr!.on('data', read);
    proc.once('exit', (code) => reject(new Error(`mail-lab web exited (${code}): ${out}`)));
  });
  return { base, proc };
}

/** first-contentful-paint of the page now loaded (ms from the navigation's start), from the page's own performance entries. */
const PAINT = `new Promise((resolve) => {
  const find = () => performance.getEntriesByType('paint').find((e) => e.name === 'first-contentful-paint');
  if (find()) return resolve(find().startTime);
  new PerformanceObserver((l) => { const e = l.getEntries().find((x) => x.name === 'first-contentful-paint'); if (e) resolve(e.startTime); }).observe({ type: 'paint', buffered: true });
  setTimeout(() => resolve(find() ? find().startTime : null), 3000);
})`;

/** In the page: when the path page first has the mailbox row of a message (window.__shown[messageId] = Date.now()). */
const WATCH_SHOWN = `(() => {
  window.__shown = {};
  const check = () => {
    const b = document.querySelector('#path-body .path-body');
    const id = b && b.getAttribute('data-message-id');
    if (id && !(id in window.__shown) && b.querySelector('tr.step[data-kind="mailbox"]')) window.__shown[id] = Date.now();
  };
  new MutationObserver(check).observe(document.getElementById('path-body'), { childList: true, subtree: true });
})()`;

async function paintOf(page: Page): Promise<number | null> {
  const v = (await page.evaluate(PAINT)) as number | null;
  return v === null ? null : round(v);
}

export async function runWebPagesBench(o: WebPagesOptions = {}): Promise<WebPagesResults> {
  const log = o.log ?? (() => undefined);
  const loads = Math.max(1, Math.min(50, o.loads ?? 5));
  const messages = Math.max(1, Math.min(100, o.messages ?? 10));
  const deadline = Date.now() + (o.deadlineMs ?? 180_000);
  const r: WebPagesResults = { lab: BENCH_LAB, firstPaint: [], appendToShown: null, errors: [] };
  const browserPath = process.env.MAIL_LAB_CHROMIUM ?? BROWSERS.find((p) => existsSync(p));
  if (!browserPath) {
    r.errors.push('no Chromium (apt-get install -y --no-install-recommends chromium-headless-shell fonts-dejavu-core, or MAIL_LAB_CHROMIUM)');
    return r;
  }
  const config = deriveLab(loadLabConfig(join(repoRoot(), 'lab-scenarios', 'lab.yaml')).config, BENCH_LAB);
  const dom = (d: string) => config.domains.find((x) => x.name === d)!;
  let startedHere = false;
  let web: { base: string; proc: ChildProcess } | null = null;
  let userDataDir = '';
  let close: (() => Promise<void>) | null = null;
  const stopEvents = new AbortController();
  try {
    const status = await cli(['status', '--lab', String(BENCH_LAB)]).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
    if (!/no-Docker/.test(status.stdout)) {
      log(`web pages: starting the no-Docker lab ${BENCH_LAB}`);
      await cli(['up', '--local', '--lab', String(BENCH_LAB)]);
      startedHere = true;
    }
    await cli(['fault', 'clear', 'all', '--lab', String(BENCH_LAB)]);
    const token = (await cli(['admin-token', '--lab', String(BENCH_LAB)])).stdout.trim();
    const target = labTarget(config, 'local', { token });
    web = await startWeb(BENCH_LAB);
    const base = web.base;
    const send = async (subject: string) => {
      const t = nodemailer.createTransport({ host: '127.0.0.1', port: dom('garudayaksa.com').ports.submission, secure: false, auth: { user: 'mbrain@garudayaksa.com', pass: 'rahasia123' }, tls: { rejectUnauthorized: false } });
      try {
        return await t.sendMail({ from: 'mbrain@garudayaksa.com', to: 'jpri@dadali.com', subject, text: `${subject}\nbench\n` });
      } finally {
        t.close();
      }
    };

    // dadali.com's events: when each message was appended to jpri's mailbox.
    const appends: { time: number; messageId?: string }[] = [];
    let lastAppend = 0;
    const follow = followEvents(target.mail('dadali.com'), {
      types: ['mailbox.append', 'queue.delivered'],
      signal: stopEvents.signal,
      onEvent: (e: LabEvent) => {
        if (e.type === 'mailbox.append' && e.data.user === 'jpri') lastAppend = Date.parse(e.time);
        else if (e.type === 'queue.delivered' && e.data.local && e.data.recipient === 'jpri@dadali.com') appends.push({ time: lastAppend || Date.parse(e.time), messageId: String(e.data.messageId ?? '').replace(/^<|>$/g, '') });
      },
    }).catch(() => undefined);

    const first = await send('bench: the first message');
    await sleep(500);
    userDataDir = mkdtempSync(join(tmpdir(), 'mail-lab-bench-chromium-'));
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: browserPath,
      headless: true,
      viewport: { width: 1280, height: 720 },
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    close = () => context.close();
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${base}/login?next=/class`);
    await page.fill('input[name=account]', 'guru');
    await page.fill('input[name=password]', 'rahasia123');
    await Promise.all([page.waitForURL(/\/class$/), page.click('form.login-form button[type=submit]')]);

    // 1. First paint of each page.
    const pages: [string, string][] = [
      ['Queue', `/lab/${BENCH_LAB}/queue`],
      ['Message path', `/lab/${BENCH_LAB}/path?id=${encodeURIComponent(first.messageId)}`],
      ['Message path (latest)', `/lab/${BENCH_LAB}/path/latest`],
      ['Mailbox file', `/lab/${BENCH_LAB}/mailbox/jpri@dadali.com`],
      ['DNS', `/lab/${BENCH_LAB}/dns`],
    ];
    for (const [name, path] of pages) {
      if (Date.now() > deadline) break;
      // Cold: a fresh cache (the static files fetched again).
      const cdp = await context.newCDPSession(page);
      await cdp.send('Network.clearBrowserCache');
      await cdp.detach();
      await page.goto('about:blank');
      await page.goto(base + path, { waitUntil: 'load' });
      const cold = await paintOf(page);
      const warm: number[] = [];
      for (let i = 0; i < loads && Date.now() < deadline; i++) {
        await page.goto('about:blank');
        await page.goto(base + path, { waitUntil: 'load' });
        const p = await paintOf(page);
        if (p !== null) warm.push(p);
      }
      r.firstPaint.push({ page: name, path, coldMs: cold, warmMedianMs: warm.length ? median(warm) : null, warmMaxMs: warm.length ? Math.max(...warm) : null, loads: warm.length });
      log(`web pages: ${name}: first paint cold ${cold} ms, warm median ${median(warm)} ms`);
    }

    // 2. Mailbox append -> the message shown on the path page (following the newest message).
    await page.goto(`${base}/lab/${BENCH_LAB}/path/latest`);
    await page.locator('body[data-live="open"]').waitFor({ timeout: 15_000 });
    await page.evaluate(WATCH_SHOWN);
    const delays: number[] = [];
    for (let i = 0; i < messages && Date.now() < deadline; i++) {
      const info = await send(`bench: append to shown ${i}`);
      const id = info.messageId.replace(/^<|>$/g, '');
      const until = Math.min(deadline, Date.now() + 10_000);
      let shown: number | undefined;
      let appended: number | undefined;
      while (Date.now() < until && (shown === undefined || appended === undefined)) {
        shown ??= ((await page.evaluate(`window.__shown[${JSON.stringify(id)}]`)) as number | undefined) ?? undefined;
        appended ??= appends.find((a) => a.messageId === id)?.time;
        if (shown === undefined || appended === undefined) await sleep(20);
      }
      if (shown !== undefined && appended !== undefined) delays.push(shown - appended);
      else r.errors.push(`message ${i}: ${shown === undefined ? 'never shown on the path page' : 'no mailbox.append event'}`);
      // The next one once the page has settled on this one (its steps shown one after the other).
      await sleep(600);
    }
    if (delays.length) r.appendToShown = { samples: delays.length, medianMs: median(delays), p95Ms: quantile(delays, 0.95), maxMs: Math.max(...delays), valuesMs: delays };
    stopEvents.abort();
    await follow;
  } catch (e) {
    r.errors.push((e as Error).message.split('\n')[0]);
  } finally {
    stopEvents.abort();
    await close?.().catch(() => undefined);
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    if (web && web.proc.exitCode === null) {
      const exited = new Promise((res) => web!.proc.once('exit', res));
      web.proc.kill('SIGINT');
      await Promise.race([exited, sleep(5000)]);
    }
    if (startedHere) await cli(['down', '--lab', String(BENCH_LAB), '--volumes']).catch((e: Error) => r.errors.push(`down: ${e.message}`));
  }
  return r;
}

export function formatWebPagesReport(r: WebPagesResults): string {
  const out = [`## The instructor's lab pages in Chromium (no-Docker lab ${r.lab}, 1280x720)`];
  for (const p of r.firstPaint) {
    const ok = p.coldMs !== null && p.coldMs < 1000 ? '✓' : '✗';
    out.push(`- ${p.page}: first contentful paint cold ${p.coldMs ?? '?'} ms, warm median ${p.warmMedianMs ?? '?'} ms (max ${p.warmMaxMs ?? '?'} ms, ${p.loads} loads; aim < 1 s ${ok})`);
  }
  if (r.appendToShown) {
    const a = r.appendToShown;
    out.push(`- mailbox append → the message shown on the path page (/path/latest): median ${a.medianMs} ms, p95 ${a.p95Ms} ms, max ${a.maxMs} ms (${a.samples} messages; aim < 200 ms ${a.medianMs < 200 ? '✓' : '✗'})`);
  }
  for (const e of r.errors) out.push(`- ERROR: ${e}`);
  return out.join('\n');
}

if (require.main === module) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : undefined;
  };
  runWebPagesBench({ loads: arg('loads'), messages: arg('messages'), log: (l) => process.stderr.write(l + '\n') }).then((r) => {
    process.stdout.write(formatWebPagesReport(r) + '\n' + JSON.stringify(r) + '\n');
    process.exitCode = r.errors.length ? 1 : 0;
  });
}
