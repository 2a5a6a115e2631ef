/**
 * The instructor's live lab pages in a real browser (harness.ts: Debian's
 * Chromium, `mail-lab web`, a no-Docker lab 43 of this suite's own, taken
 * down with its data at the end when this suite started it): a message sent
 * across the domains shows on the Message path page (followed live on
 * /path/latest) with its submission, DNS MX with the answer, the SMTP hop
 * and the mailbox append, stepped back and forth with the envelope on the
 * drawing; with the link broken the Queue page shows it deferred with a
 * countdown that counts; healed and flushed, the path shows it delivered,
 * live; the Mailbox file page highlights the appended text, then shows the
 * file shrink after a POP3 download (Python's poplib); the DNS page shows
 * the MX question live. The same in Indonesian. No console error, no
 * request but to the web server. Screenshots: test/browser/artifacts/lab-*.png.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import nodemailer from 'nodemailer';
import type { Page } from 'playwright-core';
import { loadLabConfig } from '../../services/core/src/config';
import { deriveLab } from '../../services/core/src/labs';
import { browserPath, ensureBuilt, launchBrowser, loginInstructor, mailLab, origins, requireBrowser, root, startLocalLab, startWeb, stopLocalLab, type BrowserSession, type LocalLab, type WebServer } from './harness';

const run = promisify(execFile);
jest.setTimeout(120_000);
const LAB = 43;
const config = deriveLab(loadLabConfig(join(root, 'lab-scenarios/lab.yaml')).config, LAB);
const port = (domain: string, which: 'submission' | 'pop3') => config.domains.find((d) => d.name === domain)!.ports[which];

let lab: LocalLab | undefined;
let web: WebServer | undefined;
let browser: BrowserSession | undefined;
let base = '';
let page: Page;

const shot = (name: string) => browser!.shot(`lab-${name}`);

beforeAll(async () => {
  if (!browserPath) return;
  await ensureBuilt();
  lab = await startLocalLab(LAB);
  // Pop3 downloads below empty jpri's mailbox: start from an empty one too.
  await pop3DownloadAll('jpri@dadali.com');
  web = await startWeb({ labs: String(LAB), lang: 'en' });
  base = web.base;
  browser = await launchBrowser();
  page = browser.page;
  await loginInstructor(page, base);
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await web?.stop();
  await stopLocalLab(lab);
}, 120_000);

async function send(subject: string, to = 'jpri@dadali.com', from = 'mbrain@garudayaksa.com'): Promise<{ messageId: string; queueId: string }> {
  const t = nodemailer.createTransport({ host: '127.0.0.1', port: port(from.split('@')[1], 'submission'), secure: false, auth: { user: from, pass: 'rahasia123' }, tls: { rejectUnauthorized: false } });
  const info = await t.sendMail({ from, to, subject, text: `${subject}\nHalo <b>jpri</b>, sampai jumpa besok.\n` });
  t.close();
  return { messageId: info.messageId, queueId: /queued as ([A-Z0-9]+)/.exec(info.response)![1] };
}

/** Python's poplib: log in, RETR and DELE every message, QUIT (the server then rewrites the file). */
async function pop3DownloadAll(account: string): Promise<number> {
  const code = [
    'import poplib, sys',
    'p = poplib.POP3("127.0.0.1", int(sys.argv[1]), timeout=10)',
    'p.user(sys.argv[2]); p.pass_("rahasia123")',
    'n = len(p.list()[1])',
    'for i in range(1, n + 1):',
    '    p.retr(i); p.dele(i)',
    'p.quit()',
    'print(n)',
  ].join('\n');
  const { stdout } = await run('python3', ['-c', code, String(port(account.split('@')[1], 'pop3')), account], { timeout: 30_000 });
  return Number(stdout.trim());
}

const live = () => page.locator('body[data-live="open"]').waitFor();
const row = (kind: string) => page.locator(`#path-body tr.step[data-kind="${kind}"]`);
const currentIndex = () => page.locator('.path-page').getAttribute('data-current-index');
/** The envelope has finished the step of this kind (the live catch-up or a click got there). */
async function envelopeAt(kind: string): Promise<void> {
  const key = await row(kind).getAttribute('data-key');
  await page.locator(`g.envelope[data-done="${key}"]`).waitFor({ timeout: 10_000 });
}

test('a browser is installed (chromium-headless-shell)', () => {
  requireBrowser();
});

test('Message path: the newest message followed live, with submission, DNS MX and its answer, the SMTP hop and the mailbox append; stepping back and forth moves the envelope', async () => {
  await page.goto(`${base}/lab/${LAB}/path/latest`);
  await live();
  const sent = await send('Rapat <b>besok</b> & "lusa"');
  await row('mailbox').waitFor({ timeout: 10_000 });
  expect(await page.locator('#path-body .path-body').getAttribute('data-message-id')).toBe(sent.messageId.replace(/^<|>$/g, ''));
  // The subject is text, not markup.
  await expect(page.locator('.path-head .subject strong').textContent()).resolves.toBe('Rapat <b>besok</b> & "lusa"');
  expect(await page.locator('.path-head .subject b').count()).toBe(0);
  const kinds = await page.locator('#path-body tr.step').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-kind')));
  expect(kinds).toEqual(['submission', 'dns-mx', 'dns-a', 'hop', 'mailbox']);
  await expect(row('dns-mx').locator('td.info').textContent()).resolves.toContain('DNS: MX of dadali.com? → 10 mail.dadali.com');
  await expect(row('hop').locator('td.way').textContent()).resolves.toBe('garudayaksa → dadali');
  // Live, it shows the new steps one after the other up to the newest: the envelope went to dadali's mailbox.
  await envelopeAt('mailbox');
  expect(await currentIndex()).toBe('4');
  await expect(page.locator('g.envelope').getAttribute('data-at')).resolves.toBe('dadali.com');
  await expect(page.locator('#path-details .mbox-line pre.from-line').textContent()).resolves.toMatch(/^From mbrain@garudayaksa\.com \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$/);
  await shot('01-path-delivered');

  await page.click('.path-controls [data-op="first"]');
  expect(await currentIndex()).toBe('0');
  await expect(page.locator('#path-details .step-details h3').textContent()).resolves.toContain('Submission to mail.garudayaksa.com');
  await expect(page.locator('#path-details pre.transcript').first().textContent()).resolves.toContain('C: MAIL FROM:<mbrain@garudayaksa.com>');
  await page.click('.path-controls [data-op="forward"]');
  expect(await currentIndex()).toBe('1');
  await envelopeAt('dns-mx');
  // DNS: there and back, the question and the answer in the details.
  await expect(page.locator('g.envelope').getAttribute('data-at')).resolves.toBe('dns');
  await expect(page.locator('#path-details .dns-qa').textContent()).resolves.toContain('dadali.com. IN MX 10 mail.dadali.com');
  await expect(page.locator('#path-details .dns-qa').textContent()).resolves.toMatch(/Lookup time[\d.]+ ms/);
  await shot('02-path-dns-step');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  expect(await currentIndex()).toBe('3');
  await expect(page.locator('#path-details h4').first().textContent()).resolves.toBe('SMTP conversation (as the sender saw it)');
  await page.click('.path-controls [data-op="back"]');
  expect(await currentIndex()).toBe('2');
  // The filter: without DNS, three steps.
  await page.uncheck('.path-controls input[value="dns"]');
  await expect(page.locator('#path-body tr.step:not([hidden])').count()).resolves.toBe(3);
  await expect(page.locator('.path-controls .position').textContent()).resolves.toMatch(/^step \d of 3$/);
  await page.check('.path-controls input[value="dns"]');
  // Play runs to the end.
  await page.click('.path-controls [data-op="first"]');
  await page.click('.path-controls [data-op="play"]');
  await expect(page.locator('.path-page').getAttribute('data-playing')).resolves.toBe('true');
  await page.locator('.path-page[data-current-index="4"]').waitFor({ timeout: 15_000 });
  await page.click('.path-controls [data-op="play"]');
  await expect(page.locator('.path-page').getAttribute('data-playing')).resolves.toBe('false');
});

test('Queue: with the link broken the message waits, deferred, with a countdown that counts; healed and flushed, the path shows it delivered live', async () => {
  await mailLab('break', 'garudayaksa.com', 'dadali.com', '--lab', String(LAB));
  const sent = await send('Ditunda <i>dulu</i>');
  await page.goto(`${base}/lab/${LAB}/queue`);
  await live();
  const entry = page.locator(`.q-entry[data-id="${sent.queueId}"]`);
  await page.locator(`.q-entry[data-id="${sent.queueId}"][data-attempts="1"]`).waitFor({ timeout: 10_000 });
  await expect(entry.locator('.rcpt[data-rcpt="jpri@dadali.com"]').getAttribute('data-status')).resolves.toBe('pending');
  await expect(entry.locator('.rcpt .state').textContent()).resolves.toBe('waiting');
  await expect(entry.locator('.rcpt .last').textContent()).resolves.toContain('connection to dadali.com timed out');
  await expect(entry.locator('.subject').textContent()).resolves.toBe('Ditunda <i>dulu</i>');
  const countdown = entry.locator('.rcpt .next .countdown');
  const first = Number(await countdown.getAttribute('data-remaining'));
  expect(first).toBeGreaterThan(0);
  await expect(countdown.textContent()).resolves.toMatch(/^in 0:\d\d$/);
  await page.waitForTimeout(2100);
  const later = Number(await countdown.getAttribute('data-remaining'));
  expect(later).toBeLessThan(first);
  expect(await entry.locator('.deadline.warn progress').getAttribute('max')).toBe('1000');
  await shot('03-queue-deferred');

  // Its path: the deferral and the wait, then delivered, live.
  await Promise.all([page.waitForURL(/\/path\?id=/), entry.locator('a.path-link').click()]);
  await live();
  await row('deferred').waitFor();
  await row('waiting').waitFor();
  await expect(row('deferred').locator('td.info').textContent()).resolves.toContain('link broken by the instructor');
  // A message on its way opens where it is now.
  await envelopeAt('waiting');
  await shot('04-path-deferred');
  await mailLab('heal', 'garudayaksa.com', 'dadali.com', '--lab', String(LAB));
  await mailLab('flush', 'garudayaksa.com', '--lab', String(LAB));
  await row('mailbox').waitFor({ timeout: 10_000 });
  expect(await row('waiting').count()).toBe(0);
  await row('hop').waitFor();
  await expect(page.locator('.path-head .status').textContent()).resolves.toBe('done');
  await page.locator('#path-drawing [data-link-state="up"]').waitFor({ timeout: 5000 });
  await envelopeAt('mailbox');
  await shot('05-path-delivered-after-heal');
});

test('Mailbox file: the appended text highlighted, then the file shrinking after a POP3 download', async () => {
  await page.goto(`${base}/lab/${LAB}/mailbox/jpri@dadali.com`);
  await live();
  const before = Number(await page.locator('#mbox .mbox-file').getAttribute('data-size'));
  await send('Untuk berkas <u>mbox</u>');
  await page.locator('#mbox-text .ln.added').first().waitFor({ timeout: 10_000 });
  const added = await page.locator('#mbox-text .ln.added').allTextContents();
  expect(added[0]).toMatch(/^From mbrain@garudayaksa\.com /);
  expect(added.join('')).toContain('Subject: Untuk berkas <u>mbox</u>');
  expect(added.join('')).toContain('Halo <b>jpri</b>, sampai jumpa besok.');
  await expect(page.locator('#mbox-change').textContent()).resolves.toMatch(/^The file grew from [\d ]+ to [\d ]+ bytes/);
  const grown = Number(await page.locator('#mbox .mbox-file').getAttribute('data-size'));
  expect(grown).toBeGreaterThan(before);
  // Exactly the file: the text of the page is the file's text.
  const text = await page.locator('#mbox-text').evaluate((el) => el.textContent);
  expect(text!.length).toBe(grown);
  await shot('06-mailbox-appended');

  const n = await pop3DownloadAll('jpri@dadali.com');
  expect(n).toBeGreaterThan(0);
  await page.locator('#mbox-text .ln.removed').first().waitFor({ timeout: 10_000 });
  await expect(page.locator('#mbox-change').textContent()).resolves.toBe(`The file shrank from ${grown.toLocaleString('en').replace(/,/g, ' ')} to 0 bytes (−${grown.toLocaleString('en').replace(/,/g, ' ')}): messages removed after a POP3 download.`);
  await expect(page.locator('#mbox-change').getAttribute('class')).resolves.toBe('mbox-change shrank');
  await shot('07-mailbox-shrinking');
  await page.locator('#mbox-text .ln.removed').first().waitFor({ state: 'detached', timeout: 10_000 });
  await expect(page.locator('#mbox .mbox-file').getAttribute('data-size')).resolves.toBe('0');
  await shot('08-mailbox-empty');
});

test('DNS: the MX question shows in the query log live; the zones as served', async () => {
  await page.goto(`${base}/lab/${LAB}/dns`);
  await live();
  await send('Untuk DNS');
  const mx = page.locator('#dns-log tr.new[data-type="MX"][data-name="dadali.com"]').first();
  await mx.waitFor({ timeout: 10_000 });
  await expect(mx.locator('td.a').textContent()).resolves.toContain('10 mail.dadali.com');
  await expect(page.locator('.dns-zones details[data-zone="dadali.com"] pre').textContent()).resolves.toMatch(/dadali\.com\. \d+ IN MX 10 mail\.dadali\.com\./);
  await page.selectOption('#dns-type', 'MX');
  expect(await page.locator('#dns-log tr[data-key]:not([hidden]):not([data-type="MX"])').count()).toBe(0);
  await shot('09-dns-live');
  await page.selectOption('#dns-type', '');
});

test('the same in Indonesian: the path, the queue with its countdown, the mailbox file, the DNS', async () => {
  await page.goto(`${base}/lab/${LAB}/path/latest?lang=id`);
  await live();
  await expect(page.locator('h1').textContent()).resolves.toBe(`Jalur pesan · lab ${LAB}`);
  await send('Halo dari <em>Garudayaksa</em>');
  await page.locator('#path-body .path-head .subject strong', { hasText: 'Halo dari <em>Garudayaksa</em>' }).waitFor({ timeout: 10_000 });
  await row('mailbox').waitFor({ timeout: 10_000 });
  await expect(row('dns-mx').locator('td.info').textContent()).resolves.toContain('DNS: MX dari dadali.com? → 10 mail.dadali.com');
  await expect(row('mailbox').locator('td.info .title').textContent()).resolves.toBe('Ditambahkan ke berkas mailbox jpri');
  await expect(row('submission').locator('td.info .title').textContent()).resolves.toBe('Dikirim ke mail.garudayaksa.com');
  await expect(page.locator('.path-controls .ctl-play').textContent()).resolves.toBe('▶ Putar');
  await envelopeAt('mailbox');
  await shot('10-id-path');

  await mailLab('break', 'garudayaksa.com', 'dadali.com', '--lab', String(LAB));
  const sent = await send('Antre <b>dulu</b>');
  await page.goto(`${base}/lab/${LAB}/queue`);
  await live();
  await page.locator(`.q-entry[data-id="${sent.queueId}"][data-attempts="1"]`).waitFor({ timeout: 10_000 });
  const entry = page.locator(`.q-entry[data-id="${sent.queueId}"]`);
  await expect(entry.locator('.rcpt .state').textContent()).resolves.toBe('menunggu');
  await expect(entry.locator('.rcpt .next .countdown').textContent()).resolves.toMatch(/^dalam 0:\d\d$/);
  await expect(page.locator('h1').textContent()).resolves.toBe(`Antrian lab ${LAB}`);
  await shot('11-id-queue');
  await mailLab('heal', 'garudayaksa.com', 'dadali.com', '--lab', String(LAB));
  await entry.locator('button[data-op="flush"]').click();
  await entry.waitFor({ state: 'detached', timeout: 10_000 });
  await expect(page.locator('#queue-result').textContent()).resolves.toContain(`garudayaksa.com: dicoba sekarang: ${sent.queueId}`);

  await page.goto(`${base}/lab/${LAB}/mailbox/jpri@dadali.com`);
  await live();
  await expect(page.locator('h1').textContent()).resolves.toBe('Berkas mailbox jpri@dadali.com');
  await send('Satu lagi');
  await page.locator('#mbox-text .ln.added').first().waitFor({ timeout: 10_000 });
  await expect(page.locator('#mbox-change').textContent()).resolves.toMatch(/^Berkas bertambah dari [\d ]+ menjadi [\d ]+ byte/);
  await shot('12-id-mailbox');
  await pop3DownloadAll('jpri@dadali.com');
  await page.locator('#mbox-change.shrank').waitFor({ timeout: 10_000 });
  await expect(page.locator('#mbox-change').textContent()).resolves.toMatch(/^Berkas menyusut dari [\d ]+ menjadi 0 byte .*: pesan dihapus setelah diunduh lewat POP3\.$/);

  await page.goto(`${base}/lab/${LAB}/dns`);
  await live();
  await expect(page.locator('h1').textContent()).resolves.toBe(`DNS lab ${LAB}`);
  await send('DNS lagi');
  await page.locator('#dns-log tr.new[data-type="MX"][data-name="dadali.com"]').first().waitFor({ timeout: 10_000 });
  await shot('13-id-dns');
  await page.goto(`${base}/class?lang=en`);
});

test('no console error, and every request went to the web server (never an admin port)', () => {
  expect(browser!.consoleErrors).toEqual([]);
  expect(browser!.failed).toEqual([]);
  expect(origins(browser!.requests)).toEqual([base]);
  expect(browser!.requests.some((u) => u.includes('/live?'))).toBe(true);
});
