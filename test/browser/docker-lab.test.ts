/**
 * The whole story of the web pages on a Docker lab (the compose lab a class
 * uses, lab 48 of this suite's own: `npx mail-lab up --lab 48`, taken down
 * with its volumes at the end when this suite started it), in two real
 * browsers, a student's and the instructor's: mbrain writes to jpri in the
 * Webmail while the instructor follows /path/latest, which shows the
 * submission, the DNS MX question, the SMTP hop and the mailbox append; the
 * link broken by `npx mail-lab break`, the next message waits on the Queue
 * page with a countdown that counts; healed and retried from the page, its
 * path shows it delivered; jpri reads both in the Webmail; the Mailbox file
 * page shows the text of a new message appended; the same under ?lang=id.
 * No console error in either browser, and every request went to the web
 * server (never an admin port). Screenshots: test/browser/artifacts/docker-*.png.
 */
import type { Locator, Page } from 'playwright-core';
import { browserPath, ensureBuilt, launchBrowser, loginInstructor, loginStudent, logout, mailLab, origins, requireBrowser, startDockerLab, startWeb, stopLocalLab, type BrowserSession, type LocalLab, type WebServer } from './harness';

jest.setTimeout(180_000);
const LAB = 48;
const STAMP = Date.now().toString(36);

let lab: LocalLab | undefined;
let web: WebServer | undefined;
let student: BrowserSession | undefined;
let teacher: BrowserSession | undefined;
let base = '';
let sp: Page;
let tp: Page;

beforeAll(async () => {
  if (!browserPath) return;
  await ensureBuilt();
  lab = await startDockerLab(LAB);
  web = await startWeb({ labs: String(LAB), lang: 'en' });
  base = web.base;
  student = await launchBrowser();
  teacher = await launchBrowser();
  sp = student.page;
  tp = teacher.page;
  await loginInstructor(tp, base);
  await loginStudent(sp, base, LAB, 'mbrain@garudayaksa.com');
}, 900_000);

afterAll(async () => {
  await student?.close();
  await teacher?.close();
  await web?.stop();
  if (lab) await mailLab('heal', 'garudayaksa.com', 'dadali.com', '--lab', String(LAB)).catch(() => undefined);
  await stopLocalLab(lab);
}, 300_000);

/** mbrain sends from the Webmail's compose form. */
async function webmailSend(subject: string, body: string): Promise<void> {
  await sp.goto(`${base}/lab/${LAB}/webmail/compose`);
  await sp.fill('input[name=to]', 'jpri@dadali.com');
  await sp.fill('input[name=subject]', subject);
  await sp.fill('textarea[name=body]', body);
  await Promise.all([sp.waitForURL(`${base}/lab/${LAB}/webmail`), sp.click('form.compose-form button[type=submit]')]);
  await expect(sp.locator('main > .notice').first().textContent()).resolves.toBe('Sent to jpri@dadali.com; a copy is in Sent.');
}

const live = (p: Page) => p.locator('body[data-live="open"]').waitFor();
const row = (kind: string) => tp.locator(`#path-body tr.step[data-kind="${kind}"]`);
const kinds = () => tp.locator('#path-body tr.step').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-kind')));
const queueEntry = (subject: string): Locator => tp.locator('.q-entry', { has: tp.locator('.subject', { hasText: subject }) });

test('a browser is installed (chromium-headless-shell)', () => {
  requireBrowser();
});

test('mbrain writes in the Webmail; the instructor sees its path live: submission, DNS MX, the hop between the containers, the mailbox append', async () => {
  await tp.goto(`${base}/lab/${LAB}/path/latest`);
  await live(tp);
  const subject = `Rapat lab Docker ${STAMP}`;
  await webmailSend(subject, 'Pak Joko,\nrapatnya besok jam 9.\n');
  await tp.locator('#path-body .path-head .subject strong', { hasText: subject }).waitFor({ timeout: 20_000 });
  await row('mailbox').waitFor({ timeout: 20_000 });
  const seen = await kinds();
  expect(seen.filter((k) => ['submission', 'dns-mx', 'hop', 'mailbox'].includes(k!))).toEqual(['submission', 'dns-mx', 'hop', 'mailbox']);
  await expect(row('dns-mx').locator('td.info').textContent()).resolves.toContain('DNS: MX of dadali.com? → 10 mail.dadali.com');
  await expect(row('hop').locator('td.way').textContent()).resolves.toBe('garudayaksa → dadali');
  await expect(row('mailbox').locator('td.info .title').textContent()).resolves.toBe("Appended to jpri's mailbox file");
  // The hop went between the containers: its details show the lab network's addresses (172.29.148.x), not loopback.
  await row('hop').click();
  await expect(tp.locator('#path-details').textContent()).resolves.toMatch(/172\.29\.148\.\d+/);
  await teacher!.shot('docker-01-path-live');
});

test('the link broken: the next message waits on the Queue page with a countdown that counts; healed and retried from the page, its path shows it delivered', async () => {
  await mailLab('break', 'garudayaksa.com', 'dadali.com', '--lab', String(LAB));
  const subject = `Ditunda di Docker ${STAMP}`;
  await webmailSend(subject, 'Ini menunggu di antrian.\n');
  await tp.goto(`${base}/lab/${LAB}/queue`);
  await live(tp);
  const entry = queueEntry(subject);
  // The first attempt ends after the profile's connect timeout (3 s): the entry shows one attempt.
  await tp.locator('.q-entry[data-attempts="1"]', { has: tp.locator('.subject', { hasText: subject }) }).waitFor({ timeout: 30_000 });
  await expect(entry.locator('.rcpt[data-rcpt="jpri@dadali.com"]').getAttribute('data-status')).resolves.toBe('pending');
  await expect(entry.locator('.rcpt .state').textContent()).resolves.toBe('waiting');
  const countdown = entry.locator('.rcpt .next .countdown');
  const first = Number(await countdown.getAttribute('data-remaining'));
  expect(first).toBeGreaterThan(0);
  await expect(countdown.textContent()).resolves.toMatch(/^in 0:\d\d$/);
  await tp.waitForTimeout(2100);
  expect(Number(await countdown.getAttribute('data-remaining'))).toBeLessThan(first);
  await teacher!.shot('docker-02-queue-deferred');

  await mailLab('heal', 'garudayaksa.com', 'dadali.com', '--lab', String(LAB));
  await entry.locator('button[data-op="flush"]').click();
  await entry.waitFor({ state: 'detached', timeout: 20_000 });
  await tp.goto(`${base}/lab/${LAB}/path/latest`);
  await live(tp);
  await tp.locator('#path-body .path-head .subject strong', { hasText: subject }).waitFor({ timeout: 20_000 });
  await row('mailbox').waitFor({ timeout: 20_000 });
  await row('deferred').waitFor();
  await expect(tp.locator('.path-head .status').textContent()).resolves.toBe('done');
  await teacher!.shot('docker-03-path-after-heal');
});

test('jpri reads both in the Webmail; the Mailbox file page shows a new message appended', async () => {
  await logout(sp);
  await loginStudent(sp, base, LAB, 'jpri@dadali.com');
  await sp.goto(`${base}/lab/${LAB}/webmail`);
  for (const subject of [`Rapat lab Docker ${STAMP}`, `Ditunda di Docker ${STAMP}`]) await sp.locator('.messages li', { hasText: subject }).waitFor({ timeout: 20_000 });
  await sp.locator('.messages li', { hasText: `Ditunda di Docker ${STAMP}` }).locator('a').click();
  await sp.locator('.wm-reader h2.subject').waitFor();
  await expect(sp.locator('.wm-reader h2.subject').textContent()).resolves.toBe(`Ditunda di Docker ${STAMP}`);
  await expect(sp.locator('.wm-reader').textContent()).resolves.toContain('Ini menunggu di antrian.');
  await student!.shot('docker-04-webmail-read');

  await tp.goto(`${base}/lab/${LAB}/mailbox/jpri@dadali.com`);
  await live(tp);
  // jpri writes to herself through her own domain: appended to the file while the page watches.
  const subject = `Catatan untuk berkas ${STAMP}`;
  await sp.goto(`${base}/lab/${LAB}/webmail/compose`);
  await sp.fill('input[name=to]', 'jpri@dadali.com');
  await sp.fill('input[name=subject]', subject);
  await sp.fill('textarea[name=body]', 'Baris baru di bawah berkas.\n');
  await Promise.all([sp.waitForURL(`${base}/lab/${LAB}/webmail`), sp.click('form.compose-form button[type=submit]')]);
  await tp.locator('#mbox-text .ln.added', { hasText: `Subject: ${subject}` }).waitFor({ timeout: 20_000 });
  const added = (await tp.locator('#mbox-text .ln.added').allTextContents()).join('');
  expect(added).toMatch(/^From jpri@dadali\.com /);
  expect(added).toContain('Baris baru di bawah berkas.');
  await expect(tp.locator('#mbox-change').textContent()).resolves.toMatch(/^The file grew from [\d ]+ to [\d ]+ bytes/);
  await teacher!.shot('docker-05-mailbox-appended');
});

test('the same in Indonesian: the path of a message written in the Webmail, and the queue page', async () => {
  await tp.goto(`${base}/lab/${LAB}/path/latest?lang=id`);
  await live(tp);
  await expect(tp.locator('h1').textContent()).resolves.toBe(`Jalur pesan · lab ${LAB}`);
  await logout(sp);
  await loginStudent(sp, base, LAB, 'mbrain@garudayaksa.com');
  const subject = `Halo dalam bahasa Indonesia ${STAMP}`;
  await webmailSend(subject, 'Apa kabar?\n');
  await tp.locator('#path-body .path-head .subject strong', { hasText: subject }).waitFor({ timeout: 20_000 });
  await row('mailbox').waitFor({ timeout: 20_000 });
  await expect(row('dns-mx').locator('td.info').textContent()).resolves.toContain('DNS: MX dari dadali.com? → 10 mail.dadali.com');
  await expect(row('submission').locator('td.info .title').textContent()).resolves.toBe('Dikirim ke mail.garudayaksa.com');
  await expect(row('mailbox').locator('td.info .title').textContent()).resolves.toBe('Ditambahkan ke berkas mailbox jpri');
  await teacher!.shot('docker-06-id-path');
  await tp.goto(`${base}/lab/${LAB}/queue`);
  await expect(tp.locator('h1').textContent()).resolves.toBe(`Antrian lab ${LAB}`);
  await tp.goto(`${base}/class?lang=en`);
});

test('no console error in either browser, and every request went to the web server (never an admin port)', () => {
  for (const b of [student!, teacher!]) {
    expect(b.consoleErrors).toEqual([]);
    expect(b.failed).toEqual([]);
    expect(origins(b.requests)).toEqual([base]);
  }
  expect(teacher!.requests.some((u) => u.includes('/live?'))).toBe(true);
});
