/**
 * The instructor's live lab pages over real HTTP in front of a real lab
 * (the in-process test lab, shown as labs 42 and 43): the Queue (mailq-like
 * entries with their countdowns and deadlines, the postsuper actions and the
 * queue profile through the admin API), the Message path (every step of a
 * message sent across the domains with a cut link, then healed: submission,
 * DNS MX and A with their answers, the deferral, the SMTP hop, the mailbox
 * append with its mbox From line), the Mailbox file (exactly the file's
 * text), the DNS page (the query log, the zones); guards, CSRF, both
 * languages, and every subject with markup shown as text.
 */
import nodemailer from 'nodemailer';
import { MAIL_API, type TraceItem } from '../../../services/core/src/admin/api';
import { buildPath } from '../../../services/web/src/pages/path-model';
import { RecentMessages } from '../../../services/web/src/status/recent-messages';
import type { UpstreamHub } from '../../../services/web/src/live/upstream';
import { separatorOf } from '../../../services/web/src/pages/path';
import { decodeWords } from '../../../services/web/src/pages/lab-format';
import { eventually } from '../helpers/test-lab';
import { startWebTestBed, WebClient, type LiveStream, type WebTestBed } from './helpers';

jest.setTimeout(30_000);

let bed: WebTestBed;
let guru: WebClient;
let token: string;
let tab: LiveStream;

beforeAll(async () => {
  bed = await startWebTestBed({ statusTtlMs: 0 });
  guru = new WebClient(bed.web.url);
  await guru.login('guru', 'rahasia123');
  token = await guru.csrf('/class');
  // A tab open on the lab, as the instructor's projector would have: the web server follows its events.
  tab = await guru.stream('/live?lab=42&types=queue,mailbox,trace&tab=lab-pages-tab-1');
  await tab.waitFor((m) => m.event === 'ready');
});
afterAll(async () => {
  tab?.close();
  await bed.close();
});

const mail = (d: string) => bed.lab.target().mail(d);
const htmx = () => ({ 'x-csrf-token': token, 'hx-request': 'true' });
const SUBJECT = 'Rapat <script>alert("x")</script> & <b>besok</b>';
const ESCAPED = 'Rapat &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;besok&lt;/b&gt;';

/** The page's text without tags, entities decoded (what a browser shows). */
const textOf = (html: string) =>
  html
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');

async function send(to: string, subject = SUBJECT, from = 'mbrain@garudayaksa.com'): Promise<{ messageId: string; queueId: string }> {
  const domain = from.split('@')[1];
  const port = bed.lab.config.domains.find((d) => d.name === domain)!.ports.submission;
  const t = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, auth: { user: from, pass: 'rahasia123' } });
  const info = await t.sendMail({ from, to, subject, text: 'Halo <b>tebal</b>\nbaris dua\n' });
  t.close();
  return { messageId: info.messageId, queueId: /queued as ([A-Z0-9]+)/.exec(info.response)![1] };
}
const cut = () => Promise.all([mail('garudayaksa.com').call(MAIL_API.cutLink, { peer: 'dadali.com' }), mail('dadali.com').call(MAIL_API.cutLink, { peer: 'garudayaksa.com' })]);
const restore = () => Promise.all([mail('garudayaksa.com').call(MAIL_API.restoreLink, { peer: 'dadali.com' }), mail('dadali.com').call(MAIL_API.restoreLink, { peer: 'garudayaksa.com' })]);
const steps = (html: string) => [...html.matchAll(/<tr class="step [^"]*" data-key="([^"]*)" data-kind="([a-z-]+)" data-category="([a-z]+)" data-from="([^"]*)" data-to="([^"]*)" data-outcome="([a-z]+)"/g)].map((m) => ({ key: m[1], kind: m[2], category: m[3], from: m[4], to: m[5], outcome: m[6] }));

describe('guards', () => {
  test('the lab pages are the instructor\'s: 401 without the login, 401 for a student; a student may open only their own mailbox file', async () => {
    const anon = new WebClient(bed.web.url);
    const paths = ['/lab/42/queue', '/lab/42/queue/list', '/lab/42/path', '/lab/42/path/latest', '/lab/42/path/steps?id=x', '/lab/42/dns', '/lab/42/dns/log', '/lab/42/mailbox', '/lab/42/mailbox/jpri@dadali.com/file'];
    for (const p of paths) expect([p, (await anon.get(p)).status]).toEqual([p, 401]);
    const student = new WebClient(bed.web.url);
    await student.login('siswa1@garudayaksa.com', 'rahasia123', 42);
    for (const p of paths.slice(0, 8)) expect([p, (await student.get(p)).status]).toEqual([p, 401]);
    expect((await student.get('/lab/42/mailbox/siswa1@garudayaksa.com/file')).status).toBe(200);
    expect((await student.get('/lab/42/mailbox/siswa1/file')).status).toBe(200);
    expect((await student.get('/lab/42/mailbox/jpri@dadali.com/file')).status).toBe(403);
    expect((await student.get('/lab/43/mailbox/siswa1@garudayaksa.com')).status).toBe(403);
    const stoken = await student.csrf('/lab/42/mailbox/siswa1');
    expect((await student.post('/lab/42/queue/action', { _csrf: stoken, domain: 'garudayaksa.com', op: 'flush' })).status).toBe(401);
  });

  test('queue actions need the session token and a same-origin request (403), and known fields (400)', async () => {
    const form = { domain: 'garudayaksa.com', op: 'flush' };
    expect((await guru.post('/lab/42/queue/action', form)).status).toBe(403);
    expect((await guru.post('/lab/42/queue/action', { ...form, _csrf: token }, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await guru.post('/lab/42/queue/action', { ...form, op: 'explode' }, htmx())).status).toBe(400);
    expect((await guru.post('/lab/42/queue/action', { ...form, domain: 'example.org' }, htmx())).status).toBe(400);
    expect((await guru.post('/lab/42/queue/action', { ...form, op: 'hold' }, htmx())).status).toBe(400);
    expect((await guru.post('/lab/42/queue/action', { ...form, op: 'hold', id: '../x' }, htmx())).status).toBe(400);
    const unknown = await guru.post('/lab/42/queue/action', { ...form, op: 'hold', id: 'NOSUCHID123' }, htmx());
    expect(unknown.status).toBe(200);
    expect(textOf(unknown.text)).toContain('failed: no message NOSUCHID123');
  });
});

describe('a message across the domains with the link cut, then healed', () => {
  let sent: { messageId: string; queueId: string };

  beforeAll(async () => {
    await cut();
    sent = await send('jpri@dadali.com');
    // Deferred at least once.
    await eventually('deferred', async () => (await mail('garudayaksa.com').call(MAIL_API.queue)).find((e) => e.id === sent.queueId && e.attempts > 0));
  });
  afterAll(restore);

  test('the Queue page: the entry like mailq, the subject as text, recipients with their state, a countdown, the deadlines', async () => {
    const page = await guru.get('/lab/42/queue');
    expect(page.status).toBe(200);
    expect(page.text).toContain('sse-connect="/live?lab=42&amp;types=queue&amp;tab=');
    expect(page.text).toContain(`data-id="${sent.queueId}"`);
    expect(page.text).toContain(ESCAPED);
    expect(page.text).not.toContain('<script>alert');
    const entry = page.text.slice(page.text.indexOf(`data-id="${sent.queueId}"`));
    expect(entry).toContain('data-rcpt="jpri@dadali.com" data-status="pending"');
    expect(textOf(entry)).toContain('connection to dadali.com timed out');
    expect(entry).toMatch(/class="countdown" data-at="\d{4}-\d\d-\d\dT[^"]+" data-template="in \{t\}" data-due="now"/);
    const listing = (await mail('garudayaksa.com').call(MAIL_API.queue)).find((e) => e.id === sent.queueId)!;
    expect(entry).toContain(`data-from="${listing.arrival}" data-to="${listing.warnAt}"`);
    expect(entry).toContain(`data-from="${listing.arrival}" data-to="${listing.returnAt}"`);
    expect(textOf(entry)).toContain('From mbrain@garudayaksa.com');
    expect(textOf(page.text)).toContain('retry every 1 s, delay warning after 1 h, returned after 2 h');
    // One domain only; in Indonesian.
    const id = await guru.get('/lab/42/queue?domain=dadali.com&lang=id');
    expect(textOf(id.text)).toContain('Antrian dadali.com');
    expect(textOf(id.text)).toContain('Antrian surat kosong');
    expect(id.text).not.toContain(`data-id="${sent.queueId}"`);
    const list = await guru.get('/lab/42/queue/list?lang=id');
    expect(textOf(list.text)).toContain('menunggu');
    expect(textOf(list.text)).toContain('Peringatan tunda');
    await guru.get('/lab/42/queue/list?lang=en');
  });

  test('the Message path while it waits: submission, the deferral with its reason, waiting with the next attempt', async () => {
    const page = await guru.get(`/lab/42/path?id=${encodeURIComponent(sent.messageId)}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain(ESCAPED);
    const s = steps(page.text);
    expect(s[0]).toMatchObject({ kind: 'submission', from: 'client', to: 'garudayaksa.com', category: 'smtp' });
    expect(s.some((x) => x.kind === 'deferred' && x.from === 'garudayaksa.com' && x.to === 'dadali.com' && x.outcome === 'wait')).toBe(true);
    expect(s[s.length - 1]).toMatchObject({ kind: 'waiting', outcome: 'wait' });
    expect(textOf(page.text)).toContain('connection to dadali.com timed out');
    expect(page.text).toContain(`data-queue-ids="${sent.queueId}"`);
    expect(page.text).toContain('data-pending="true"');
    // The drawing to move the envelope on, live on the lab's events.
    expect(page.text).toContain('<svg class="topology"');
    expect(page.text).toContain('sse-connect="/live?lab=42&amp;types=queue%2Cmailbox%2Ctrace%2Clink%2Cfault&amp;tab=');
  });

  test('healed and flushed: the path shows DNS MX and A with their answers and times, the SMTP hop with both transcripts, the mailbox append with its From line', async () => {
    await restore();
    await guru.post('/lab/42/queue/action', { domain: 'garudayaksa.com', op: 'flush' }, htmx());
    await eventually('delivered to jpri', async () => (await mail('dadali.com').call(MAIL_API.mailbox, { user: 'jpri' })).text.includes(sent.messageId));
    const frag = await eventually('the mailbox step', async () => {
      const r = await guru.get(`/lab/42/path/steps?id=${encodeURIComponent(sent.messageId)}`);
      return steps(r.text).some((x) => x.kind === 'mailbox') && r;
    });
    const s = steps(frag.text);
    const kinds = s.map((x) => x.kind);
    expect(kinds[0]).toBe('submission');
    expect(kinds).toContain('deferred');
    const mx = kinds.lastIndexOf('dns-mx');
    const a = kinds.lastIndexOf('dns-a');
    const hop = kinds.indexOf('hop');
    const box = kinds.indexOf('mailbox');
    expect(mx).toBeGreaterThan(0);
    expect(a).toBeGreaterThan(mx);
    expect(hop).toBeGreaterThan(a);
    expect(box).toBeGreaterThan(hop);
    expect(s[mx]).toMatchObject({ from: 'garudayaksa.com', to: 'dns', category: 'dns', outcome: 'ok' });
    expect(s[hop]).toMatchObject({ from: 'garudayaksa.com', to: 'dadali.com', outcome: 'ok' });
    expect(s[box]).toMatchObject({ from: 'dadali.com', to: 'dadali.com', category: 'mailbox' });
    expect(kinds).not.toContain('waiting');
    const text = textOf(frag.text);
    expect(text).toContain('DNS: MX of dadali.com?');
    expect(text).toContain('→ 10 mail.dadali.com');
    expect(text).toContain('DNS: A of mail.dadali.com?');
    expect(text).toContain('dadali.com. IN MX 10 mail.dadali.com');
    // The lookup time from the live queue.attempt event the web server saw.
    expect(text).toMatch(/Lookup time\s*[\d.]+ ms/);
    expect(text).toContain("Appended to jpri's mailbox file");
    expect(text).toContain('From mbrain@garudayaksa.com ');
    expect(text).toContain('C: MAIL FROM:<mbrain@garudayaksa.com>');
    expect(text).toMatch(/dadali\.com received it: queued as [A-Z0-9]+/);
    expect(frag.text).toContain('data-pending="false"');
    expect(frag.text).toContain('data-mailboxes="dadali.com/jpri"');
    expect(frag.text).toContain(ESCAPED);
    // By dadali's queue id too: the same path.
    const copy = /dadali\.com received it: queued as ([A-Z0-9]+)</.exec(frag.text)![1];
    const byCopy = await guru.get(`/lab/42/path/steps?id=${copy}`);
    expect(steps(byCopy.text).map((x) => x.kind)).toEqual(kinds);
    // In Indonesian.
    const id = textOf((await guru.get(`/lab/42/path/steps?id=${encodeURIComponent(sent.messageId)}&lang=id`)).text);
    expect(id).toContain('DNS: MX dari dadali.com?');
    expect(id).toContain('Ditambahkan ke berkas mailbox jpri');
    expect(id).toContain('Dikirim ke mail.garudayaksa.com');
    await guru.get('/lab/42/queue/list?lang=en');
  });

  test('a POP3 read is a step of the path; the Mailbox file page is exactly the file, and shows it shrink', async () => {
    const file = await mail('dadali.com').call(MAIL_API.mailbox, { user: 'jpri' });
    const page = await guru.get('/lab/42/mailbox/jpri@dadali.com');
    expect(page.status).toBe(200);
    const pre = /<pre class="mbox" id="mbox-text"[^>]*>([\s\S]*?)<\/pre>/.exec(page.text)![1];
    expect(textOf(pre)).toBe(file.text);
    expect(pre).toContain('<span class="ln sep">From mbrain@garudayaksa.com ');
    expect(page.text).toContain(`<code>cat ${file.path}</code>`);
    expect(page.text).toContain('sse-connect="/live?lab=42&amp;types=mailbox%2Ctrace.retrieved&amp;sources=dadali.com&amp;tab=');
    expect(page.text).toContain(`data-size="${file.text.length}"`);
    // The markup of the message is text in the file view.
    expect(pre).toContain('Halo &lt;b&gt;tebal&lt;/b&gt;');
    expect(pre).not.toContain('<b>');
    // Downloaded over POP3 (RETR, DELE, QUIT): a read in the path, and an empty file.
    await pop3DownloadAll('jpri', 'dadali.com');
    const frag = await eventually('the read step', async () => {
      const r = await guru.get(`/lab/42/path/steps?id=${encodeURIComponent(sent.messageId)}`);
      return steps(r.text).some((x) => x.kind === 'read') && r;
    });
    expect(textOf(frag.text)).toContain('jpri read it over POP3');
    expect(textOf(frag.text)).toContain('No longer in the file (downloaded over POP3, or deleted).');
    const after = await guru.get('/lab/42/mailbox/jpri@dadali.com/file');
    expect(after.text).toContain('data-size="0"');
    expect(textOf(after.text)).toContain('(the file is empty: no message in the INBOX)');
    const id = await guru.get('/lab/42/mailbox/jpri@dadali.com?lang=id');
    expect(textOf(id.text)).toContain('Berkas mailbox jpri@dadali.com');
    await guru.get('/lab/42/mailbox?lang=en');
  });

  test('/path/latest shows the newest message of the lab; the chooser lists recent messages', async () => {
    const newer = await send('siswa2@garudayaksa.com', 'Yang terbaru <i>ini</i>');
    await eventually('seen', () => bed.web.web.deps.recent.latest(42)?.messageId === newer.messageId);
    const latest = await guru.get('/lab/42/path/latest');
    expect(latest.status).toBe(200);
    expect(latest.text).toContain('data-follow="latest"');
    expect(latest.text).toContain('Yang terbaru &lt;i&gt;ini&lt;/i&gt;');
    const chooser = await guru.get('/lab/42/path');
    expect(chooser.text).toContain(`/lab/42/path?id=${encodeURIComponent(newer.messageId)}`);
    expect(chooser.text).toContain(`/lab/42/path?id=${encodeURIComponent(sent.messageId)}`);
    expect(chooser.text).toContain(ESCAPED);
    const unknown = await guru.get('/lab/42/path?id=%3Cnobody%40nowhere%3E');
    expect(textOf(unknown.text)).toContain('No trace of <nobody@nowhere> in lab 42');
    expect(textOf((await guru.get('/lab/42/path/latest?lang=id')).text)).toContain('Mengikuti pesan terbaru di lab');
    await guru.get('/lab/42/path?lang=en');
  });
});

async function pop3DownloadAll(user: string, domain: string): Promise<void> {
  const { connect } = await import('node:net');
  const port = bed.lab.config.domains.find((d) => d.name === domain)!.ports.pop3;
  const sock = connect(port, '127.0.0.1');
  let buf = '';
  sock.setEncoding('latin1');
  sock.on('data', (c: string) => (buf += c));
  const waitFor = async (re: RegExp) => {
    await eventually(`POP3 ${re}`, () => re.test(buf), 5000);
    const m = re.exec(buf)!;
    buf = buf.slice(m.index + m[0].length);
    return m;
  };
  await waitFor(/^\+OK.*\r\n/m);
  sock.write(`USER ${user}@${domain}\r\n`);
  await waitFor(/^\+OK.*\r\n/m);
  sock.write('PASS rahasia123\r\n');
  await waitFor(/^\+OK.*\r\n/m);
  sock.write('STAT\r\n');
  const n = Number((await waitFor(/^\+OK (\d+) \d+\r\n/m))[1]);
  for (let i = 1; i <= n; i++) {
    sock.write(`RETR ${i}\r\n`);
    await waitFor(/\r\n\.\r\n/);
    sock.write(`DELE ${i}\r\n`);
    await waitFor(/^\+OK.*\r\n/m);
  }
  sock.write('QUIT\r\n');
  await waitFor(/^\+OK.*\r\n/m);
  sock.end();
}

describe('the queue actions through the admin API', () => {
  test('hold, release, retry now, return to sender, delete, the queue profile: each said in words, done on the server', async () => {
    await cut();
    try {
      const a = await send('jpri@dadali.com', 'Satu');
      const b = await send('jpri@dadali.com', 'Dua');
      const q = () => mail('garudayaksa.com').call(MAIL_API.queue);
      const act = (form: Record<string, string>) => guru.post('/lab/42/queue/action', { domain: 'garudayaksa.com', ...form }, htmx());
      let r = await act({ op: 'hold', id: a.queueId });
      expect(textOf(r.text)).toContain(`${a.queueId}: on hold`);
      expect((await q()).find((e) => e.id === a.queueId)!.held).toBe(true);
      const held = await guru.get('/lab/42/queue/list');
      expect(held.text).toContain(`data-id="${a.queueId}" data-held="true"`);
      expect(textOf(held.text)).toContain('on hold: not retried until released');
      r = await act({ op: 'release', id: a.queueId });
      expect(textOf(r.text)).toContain(`${a.queueId}: released`);
      r = await act({ op: 'release', id: a.queueId });
      expect(textOf(r.text)).toContain(`${a.queueId}: it already was so`);
      r = await act({ op: 'flush', id: a.queueId });
      expect(textOf(r.text)).toContain(`garudayaksa.com: retrying now: ${a.queueId}`);
      r = await act({ op: 'expire', id: a.queueId });
      expect(textOf(r.text)).toContain(`${a.queueId}: returned to the sender`);
      await eventually('a gone', async () => !(await q()).some((e) => e.id === a.queueId));
      // Returned: the path says so (the failure notice goes to the sender).
      const path = await eventually('returned step', async () => {
        const p = await guru.get(`/lab/42/path/steps?id=${encodeURIComponent(a.messageId)}`);
        return steps(p.text).some((x) => x.kind === 'returned') && p;
      });
      expect(steps(path.text).find((x) => x.kind === 'returned')).toMatchObject({ from: 'garudayaksa.com', to: 'garudayaksa.com', outcome: 'fail', category: 'notice' });
      r = await act({ op: 'delete', id: b.queueId });
      expect(textOf(r.text)).toContain(`${b.queueId}: deleted from the queue`);
      expect((await q()).some((e) => e.id === b.queueId)).toBe(false);
      r = await act({ op: 'profile', profile: 'demo' });
      expect(textOf(r.text)).toContain('garudayaksa.com: queue profile demo');
      expect((await mail('garudayaksa.com').call(MAIL_API.queueProfile)).name).toBe('demo');
      await act({ op: 'profile', profile: 'test' });
      r = await act({ op: 'profile', profile: 'nope' });
      expect(textOf(r.text)).toContain('failed: unknown queue profile "nope"');
      r = await guru.post('/lab/42/queue/action?lang=id', { domain: 'garudayaksa.com', op: 'profile', profile: 'test' }, htmx());
      expect(textOf(r.text)).toContain('garudayaksa.com: sudah memakai profil antrian test');
      await guru.get('/lab/42/queue/list?lang=en');
    } finally {
      await restore();
    }
  });
});

describe('the DNS page', () => {
  test('the query log shows the MX question with its answer; the zones as served; new questions by the reload', async () => {
    const page = await guru.get('/lab/42/dns');
    expect(page.status).toBe(200);
    expect(page.text).toContain('sse-connect="/live?lab=42&amp;types=dns&amp;sources=dns&amp;tab=');
    expect(page.text).toMatch(/data-type="MX" data-name="dadali.com" data-rcode="NOERROR"/);
    expect(textOf(page.text)).toContain('10 mail.dadali.com');
    expect(page.text).toMatch(/dadali\.com\. \d+ IN MX 10 mail\.dadali\.com\./);
    const before = Number(/data-count="(\d+)"/.exec((await guru.get('/lab/42/dns/log')).text)![1]);
    await lookup('nothing-here.dadali.com');
    const log = await eventually('the new question', async () => {
      const r = await guru.get('/lab/42/dns/log');
      return r.text.includes('data-name="nothing-here.dadali.com"') && r;
    });
    expect(Number(/data-count="(\d+)"/.exec(log.text)![1])).toBeGreaterThanOrEqual(Math.min(before + 1, 150));
    expect(log.text).toMatch(/data-name="nothing-here.dadali.com" data-rcode="NXDOMAIN" class="failed"/);
    const id = textOf((await guru.get('/lab/42/dns?lang=id')).text);
    expect(id).toContain('DNS lab 42');
    expect(id).toContain('Log kueri (langsung)');
    expect(id).toContain('Zona yang dilayani');
    await guru.get('/lab/42/dns?lang=en');
  });
});

async function lookup(name: string): Promise<void> {
  const { Resolver } = await import('node:dns/promises');
  const r = new Resolver({ timeout: 1000, tries: 1 });
  r.setServers([`127.0.0.1:${bed.lab.config.dns.hostPort}`]);
  await r.resolve4(name).catch(() => undefined);
}

describe('the pieces', () => {
  test('encoded-words in subjects are decoded', () => {
    expect(decodeWords('=?UTF-8?Q?Rapat_=3Cb=3Ebesok=3C/b=3E?=')).toBe('Rapat <b>besok</b>');
    expect(decodeWords('=?UTF-8?B?U2VsYW1hdCBwYWdp?= =?UTF-8?Q?_semua?=')).toBe('Selamat pagi semua');
    expect(decodeWords('plain <x>')).toBe('plain <x>');
  });

  test("the mbox separator of a queue copy's message", () => {
    const text = 'From a@x Tue Dec  1 10:00:00 2026\nReceived: from x by mail.dadali.com with ESMTPS id AAA111\nSubject: one\n\nbody\n\nFrom b@x Tue Dec  1 11:00:00 2026\nReceived: from y by mail.dadali.com with ESMTPS id BBB222\n\nFrom inside the body\n\n';
    expect(separatorOf(text, 'BBB222')).toBe('From b@x Tue Dec  1 11:00:00 2026');
    expect(separatorOf(text, 'AAA111')).toBe('From a@x Tue Dec  1 10:00:00 2026');
    expect(separatorOf(text, 'CCC333')).toBeNull();
  });

  test('a path by hand: a delay notice, a return to the sender, a read over IMAP, in time order', () => {
    const entry = {
      id: 'Q1',
      messageId: '<m1@x>',
      subject: 's',
      from: 'mbrain@garudayaksa.com',
      arrival: '2026-01-01T10:00:00.000Z',
      size: 10,
      recipients: [{ address: 'jpri@dadali.com', local: false, status: 'bounced' as const, attempts: 2, lastError: 'timed out', doneAt: '2026-01-01T10:10:00.000Z' }],
      warned: true,
      held: false,
      history: [
        { time: '2026-01-01T10:00:01.000Z', recipients: ['jpri@dadali.com'], result: 'deferred' as const, detail: 'connection to dadali.com timed out (link broken by the instructor)' },
        { time: '2026-01-01T10:05:00.000Z', recipients: ['jpri@dadali.com'], result: 'deferred' as const, mx: [{ exchange: 'mail.dadali.com', priority: 10 }], host: 'mail.dadali.com[10.0.0.2]:25', detail: 'timed out', transcript: ['DNS: MX dadali.com -> 10 mail.dadali.com', 'DNS: A mail.dadali.com -> 10.0.0.2'] },
      ],
      queued: false,
    };
    const items: TraceItem[] = [
      { kind: 'queue', time: entry.arrival, domain: 'garudayaksa.com', queueId: 'Q1', messageId: '<m1@x>', entry },
      { kind: 'smtp-in', time: '2026-01-01T09:59:59.900Z', domain: 'garudayaksa.com', queueId: 'Q1', messageId: '<m1@x>', port: 587, peer: 'c 10.0.0.100', helo: 'pc', user: 'mbrain', transcript: ['S: 220 hi'] },
      { kind: 'retrieved', time: '2026-01-01T10:20:00.000Z', domain: 'garudayaksa.com', messageId: '<m1@x>', protocol: 'imap', user: 'mbrain', folder: 'INBOX', uid: 3 },
    ];
    const events = [{ id: 9, type: 'queue.delay-notice' as const, time: '2026-01-01T10:02:00.000Z', source: 'garudayaksa.com', data: { id: 'Q1' } }];
    const p = buildPath({ id: '<m1@x>', items, events, domains: [{ name: 'garudayaksa.com', mailHost: 'mail.garudayaksa.com' }, { name: 'dadali.com', mailHost: 'mail.dadali.com' }], notices: [{ kind: 'delay', key: '<n1@x>' }] });
    expect(p.steps.map((s) => s.kind)).toEqual(['submission', 'deferred', 'delay-notice', 'dns-mx', 'dns-a', 'deferred', 'returned', 'read']);
    expect(p.steps.find((s) => s.kind === 'delay-notice')!.details.notice).toBe('<n1@x>');
    expect(p.steps.find((s) => s.kind === 'returned')).toMatchObject({ from: 'garudayaksa.com', to: 'garudayaksa.com', outcome: 'fail' });
    expect(p.steps.find((s) => s.kind === 'read')).toMatchObject({ from: 'garudayaksa.com', to: 'client' });
    expect(p.steps.find((s) => s.kind === 'dns-a')!.details.dns).toEqual({ type: 'A', name: 'mail.dadali.com', answers: ['10.0.0.2'], ms: undefined, error: undefined });
    expect(p.pending).toBe(false);
    expect(p.recipients).toEqual(['jpri@dadali.com']);
  });

  test('the recent messages: the newest, a relayed copy is the same message, a delay notice linked to its message', () => {
    const hub = { tap: () => () => undefined } as unknown as UpstreamHub;
    const r = new RecentMessages(hub, { messages: 3 });
    let id = 0;
    const ev = (source: string, type: string, time: string, data: Record<string, unknown>) => r.add(42, { id: ++id, type: type as never, time, source, data });
    ev('garudayaksa.com', 'queue.queued', '2026-01-01T10:00:00.000Z', { id: 'Q1', messageId: '<m1@x>', subject: 'one', from: 'a@garudayaksa.com', recipients: ['b@dadali.com'] });
    ev('dadali.com', 'queue.queued', '2026-01-01T10:00:01.000Z', { id: 'R1', messageId: '<m1@x>', subject: 'one', from: 'a@garudayaksa.com', recipients: ['b@dadali.com'] });
    expect(r.latest(42)).toMatchObject({ key: '<m1@x>', copies: [{ domain: 'garudayaksa.com', id: 'Q1' }, { domain: 'dadali.com', id: 'R1' }] });
    expect(r.find(42, 'R1')?.key).toBe('<m1@x>');
    ev('garudayaksa.com', 'queue.attempt', '2026-01-01T10:00:02.000Z', { id: 'Q1', domain: 'dadali.com', lookups: [] });
    // The delay notice is queued just before the delay-notice event of its message.
    ev('garudayaksa.com', 'queue.queued', '2026-01-01T10:02:00.000Z', { id: 'N1', messageId: '<n1@x>', from: '', recipients: ['a@garudayaksa.com'], notice: 'delay' });
    ev('garudayaksa.com', 'queue.delay-notice', '2026-01-01T10:02:00.010Z', { id: 'Q1', messageId: '<m1@x>' });
    expect(r.find(42, '<m1@x>')!.notices).toEqual([{ kind: 'delay', key: '<n1@x>' }]);
    expect(r.latest(42)?.key).toBe('<n1@x>');
    expect(r.eventsOf(42, 'm1@x').map((e) => e.type)).toEqual(['queue.queued', 'queue.queued', 'queue.attempt', 'queue.delay-notice']);
    ev('garudayaksa.com', 'queue.queued', '2026-01-01T10:03:00.000Z', { id: 'Q2', messageId: '<m2@x>' });
    ev('garudayaksa.com', 'queue.queued', '2026-01-01T10:04:00.000Z', { id: 'Q3', messageId: '<m3@x>' });
    // Only the last 3 kept.
    expect(r.list(42).map((m) => m.key)).toEqual(['<m3@x>', '<m2@x>', '<n1@x>']);
    expect(r.find(42, 'Q1')).toBeUndefined();
  });
});
