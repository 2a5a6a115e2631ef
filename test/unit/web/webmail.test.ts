/**
 * The students' Webmail over real HTTP in front of an in-process lab (TLS
 * on: STARTTLS on IMAP and submission, as in a class), working only over
 * the lab's IMAP and submission servers: mbrain writes to jpri with an
 * attachment, jpri reads it (unread counts, the text, the attachment with
 * the same bytes and safe headers, the source, every header, the Received
 * chain as hops), replies, forwards, moves, deletes, empties Trash,
 * searches on the server, makes, renames and deletes folders; the protocol
 * drawer shows the IMAP and SMTP lines each click caused, the password
 * masked; HTML mail is sanitised and framed; markup in subjects, names and
 * file names is text; an upload over the lab's size limit is refused with
 * the limit in words; the draft survives an expired session; another lab's
 * or account's pages and the instructor get 403.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createTransport } from 'nodemailer';
import { MAIL_API } from '../../../services/core/src/admin/api';
import { WebClient, noticeOf, startWebTestBed, type WebTestBed } from './helpers';
import { download, listed, postMultipart, protocolLines, startWebmailBed, unescape, unseenOf } from './webmail-helpers';

// Uploads of 10 MB, TLS and real deliveries on a machine that may be busy: room beyond jest's 5 s.
jest.setTimeout(60_000);

let bed: WebTestBed;
let mbrain: WebClient;
let jpri: WebClient;
const G = 'garudayaksa.com';
const D = 'dadali.com';
const PASSWORD = 'rahasia123';
/** A small binary file with every byte value. */
const FILE = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7 + 3) % 256));

beforeAll(async () => {
  bed = await startWebmailBed();
  mbrain = new WebClient(bed.web.url);
  jpri = new WebClient(bed.web.url);
  expect((await mbrain.login(`mbrain@${G}`, PASSWORD, 42)).status).toBe(303);
  expect((await jpri.login(`jpri@${D}`, PASSWORD, 42)).status).toBe(303);
}, 60_000);
afterAll(() => bed.close());

const port = (domain: string, kind: 'smtp' | 'submission') => bed.lab.config.domains.find((d) => d.name === domain)!.ports[kind];

/** Waits until a list page of `client` shows a message whose subject matches. */
async function waitForListed(client: WebClient, path: string, subject: string | RegExp, ms = 10_000) {
  const end = Date.now() + ms;
  for (;;) {
    const page = await client.get(path);
    const m = listed(page.text).find((x) => (typeof subject === 'string' ? x.subject === subject : subject.test(x.subject)));
    if (m) return { page, m };
    if (Date.now() > end) throw new Error(`no "${subject}" in ${path}: ${JSON.stringify(listed(page.text))}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

async function send(client: WebClient, fields: Record<string, string>, files: { filename: string; type: string; content: Buffer }[] = []) {
  const token = await client.csrf('/lab/42/webmail/compose');
  return postMultipart(client, '/lab/42/webmail/send', { _csrf: token, _next: '/lab/42/webmail/compose', cc: '', ...fields }, files.map((f) => ({ name: 'attachment', ...f })));
}

describe('writing and reading', () => {
  test('mbrain writes to jpri with an attachment: submission with his login, a copy in Sent, the protocol in the drawer', async () => {
    const compose = await mbrain.get('/lab/42/webmail/compose');
    expect(compose.status).toBe(200);
    expect(compose.text).toContain('enctype="multipart/form-data"');
    expect(compose.text).toContain('At most 10 MB in all, attachments included');
    const sent = await send(mbrain, { to: `jpri@${D}`, subject: 'Laporan jaringan', body: 'Pak Joko,\nini laporannya.\n\nMarsel' }, [{ filename: 'laporan.bin', type: 'application/octet-stream', content: FILE }]);
    expect(sent.status).toBe(303);
    expect(sent.location).toBe('/lab/42/webmail');
    const page = await mbrain.get(sent.location!);
    expect(noticeOf(page.text)).toBe(`Sent to jpri@${D}; a copy is in Sent.`);
    const lines = protocolLines(page.text);
    // The send: SMTP submission with STARTTLS and AUTH, the password masked; then the IMAP APPEND to Sent.
    expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/^SMTP S: 220 /), expect.stringMatching(/^SMTP C: EHLO /), 'SMTP C: STARTTLS', `SMTP C: AUTH PLAIN <base64 of "\\0mbrain@${G}\\0****", the password hidden>`, expect.stringMatching(/^SMTP S: 235 /), `SMTP C: MAIL FROM:<mbrain@${G}>`, `SMTP C: RCPT TO:<jpri@${D}>`, 'SMTP C: DATA', expect.stringMatching(/^SMTP S: 250 .*queued as/)]));
    expect(lines.some((l) => /^IMAP C: \w+ APPEND Sent \(\\Seen\)/.test(l))).toBe(true);
    expect(page.text).not.toContain(PASSWORD);
    expect(page.text).not.toContain(Buffer.from(`\0mbrain@${G}\0${PASSWORD}`).toString('base64'));
    const sentBox = await waitForListed(mbrain, '/lab/42/webmail?folder=Sent', 'Laporan jaringan');
    expect(sentBox.m.seen).toBe(true);
  });

  test('jpri sees it unread with its count, reads it (SELECT, FETCH, STORE \\Seen), and the count goes down', async () => {
    const { page, m } = await waitForListed(jpri, '/lab/42/webmail', 'Laporan jaringan');
    expect(m.seen).toBe(false);
    expect(unseenOf(page.text, 'INBOX')).toBe(1);
    expect(page.text).toMatch(/data-uid="\d+"><a [^>]*>[\s\S]*?class="clip"/);
    const read = await jpri.get(`/lab/42/webmail?uid=${m.uid}`);
    expect(read.status).toBe(200);
    expect(read.text).toContain('<h2 class="subject">Laporan jaringan</h2>');
    expect(read.text).toContain('<pre class="body-text">Pak Joko,\nini laporannya.\n\nMarsel</pre>');
    expect(read.text).toContain('Marsel &lt;mbrain@garudayaksa.com&gt;');
    expect(unseenOf(read.text, 'INBOX')).toBe(0);
    const lines = protocolLines(read.text);
    expect(lines).toEqual(expect.arrayContaining(['IMAP C: 4 AUTHENTICATE PLAIN', `IMAP C: <base64 of "\\0jpri@${D}\\0****", the password hidden>`, expect.stringMatching(/^IMAP C: \w+ SELECT INBOX/), expect.stringMatching(new RegExp(`^IMAP C: \\w+ UID FETCH ${m.uid} \\(UID FLAGS BODY\\.PEEK\\[\\]\\)`)), expect.stringMatching(new RegExp(`^IMAP C: \\w+ UID STORE ${m.uid} \\+FLAGS \\(\\\\Seen\\)`))]));
    expect(lines.some((l) => l.includes(PASSWORD))).toBe(false);
    // The Received chain as hops, oldest first: the submission at garudayaksa, then the relay to dadali; no link for a student.
    const hops = [...read.text.matchAll(/<li class="hop"[\s\S]*?<\/li>/g)].map((x) => x[0]);
    expect(hops).toHaveLength(2);
    expect(hops[0]).toContain('<strong class="hop-by">mail.garudayaksa.com</strong>');
    expect(hops[0]).toContain('ESMTPSA, TLS, logged in');
    expect(hops[1]).toContain('<strong class="hop-by">mail.dadali.com</strong>');
    expect(hops[1]).toContain('ESMTPS, TLS');
    expect(read.text).not.toContain('/lab/42/path?id=');
    // Every header, as the server has them.
    expect(read.text).toMatch(/<pre class="headers">[^<]*Received: from [^<]*Subject: Laporan jaringan[^<]*<\/pre>/);
  });

  test('the attachment downloads with the same bytes, its type and a safe Content-Disposition', async () => {
    const { m } = await waitForListed(jpri, '/lab/42/webmail', 'Laporan jaringan');
    const read = await jpri.get(`/lab/42/webmail?uid=${m.uid}`);
    const href = unescape(/<a href="(\/lab\/42\/webmail\/attachment\?[^"]+)" download="laporan.bin">/.exec(read.text)![1]);
    const file = await download(jpri, href);
    expect(file.status).toBe(200);
    expect(file.body.equals(FILE)).toBe(true);
    expect(file.headers.get('content-type')).toBe('application/octet-stream');
    expect(file.headers.get('content-disposition')).toBe(`attachment; filename="laporan.bin"; filename*=UTF-8''laporan.bin`);
    expect(file.headers.get('x-content-type-options')).toBe('nosniff');
    // The download talked IMAP too: the drawer asks for it.
    const drawer = await jpri.get('/lab/42/webmail/protocol');
    expect(drawer.text).toContain('Download an attachment of message');
    expect(protocolLines(drawer.text).some((l) => /UID FETCH .* BODY\.PEEK\[\]/.test(l))).toBe(true);
    // Another lab's student cannot: 403. A part that is not there: 404.
    expect((await download(jpri, href.replace('/lab/42/', '/lab/43/'))).status).toBe(403);
    expect((await download(jpri, href.replace(/part=\d+/, 'part=9'))).status).toBe(404);
  });

  test('view source: the message as the server gives it, and as a file', async () => {
    const { m } = await waitForListed(jpri, '/lab/42/webmail', 'Laporan jaringan');
    const src = await jpri.get(`/lab/42/webmail/source?folder=INBOX&uid=${m.uid}`);
    expect(src.status).toBe(200);
    expect(src.text).toMatch(/<pre class="source">[^<]*Received: from [^<]*Content-Disposition: attachment; filename=laporan.bin[\s\S]*<\/pre>/);
    const eml = await download(jpri, `/lab/42/webmail/source?folder=INBOX&uid=${m.uid}&download=1`);
    expect(eml.headers.get('content-disposition')).toContain(`filename="message-${m.uid}.eml"`);
    expect(eml.body.toString()).toContain('Subject: Laporan jaringan');
  });
});

describe('replying, forwarding, moving, deleting, searching, folders', () => {
  test('jpri replies: the form is filled (Re:, the quote, In-Reply-To), mbrain gets it, the original is marked \\Answered', async () => {
    const { m } = await waitForListed(jpri, '/lab/42/webmail', 'Laporan jaringan');
    const form = await jpri.get(`/lab/42/webmail/compose?mode=reply&folder=INBOX&uid=${m.uid}`);
    expect(form.status).toBe(200);
    expect(form.text).toContain('name="to" value="Marsel &lt;mbrain@garudayaksa.com&gt;"');
    expect(form.text).toContain('name="subject" value="Re: Laporan jaringan"');
    expect(form.text).toMatch(/<textarea name="body" rows="10">\n\n\nOn [^<]*, Marsel &lt;mbrain@garudayaksa.com&gt; wrote:\n&gt; Pak Joko,\n&gt; ini laporannya.\n&gt; \n&gt; Marsel\n<\/textarea>/);
    const inReplyTo = unescape(/name="inReplyTo" value="([^"]+)"/.exec(form.text)![1]);
    const sent = await send(jpri, { mode: 'reply', folder: 'INBOX', uid: String(m.uid), inReplyTo, references: inReplyTo, to: `mbrain@${G}`, subject: 'Re: Laporan jaringan', body: 'Terima kasih, sudah saya terima.' });
    expect(sent.status).toBe(303);
    const after = await jpri.get(sent.location!);
    expect(protocolLines(after.text)).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^IMAP C: \\w+ UID STORE ${m.uid} \\+FLAGS \\(\\\\Answered\\)`))]));
    const got = await waitForListed(mbrain, '/lab/42/webmail', 'Re: Laporan jaringan');
    const src = await download(mbrain, `/lab/42/webmail/source?folder=INBOX&uid=${got.m.uid}&download=1`);
    expect(src.body.toString()).toContain(`In-Reply-To: ${inReplyTo}`);
  });

  test('jpri forwards it to mbrain: Fwd:, the text and the attachment go along', async () => {
    const { m } = await waitForListed(jpri, '/lab/42/webmail', 'Laporan jaringan');
    const form = await jpri.get(`/lab/42/webmail/compose?mode=forward&folder=INBOX&uid=${m.uid}`);
    expect(form.text).toContain('name="subject" value="Fwd: Laporan jaringan"');
    expect(form.text).toContain('---------- Forwarded message ----------');
    expect(form.text).toContain('The attachments of the forwarded message go with it: laporan.bin');
    const body = unescape(/<textarea name="body" rows="10">\n([\s\S]*?)<\/textarea>/.exec(form.text)![1]);
    const sent = await send(jpri, { mode: 'forward', folder: 'INBOX', uid: String(m.uid), to: `mbrain@${G}`, subject: 'Fwd: Laporan jaringan', body });
    expect(sent.status).toBe(303);
    const got = await waitForListed(mbrain, '/lab/42/webmail', 'Fwd: Laporan jaringan');
    const read = await mbrain.get(`/lab/42/webmail?uid=${got.m.uid}`);
    expect(read.text).toContain('ini laporannya.');
    const href = unescape(/<a href="(\/lab\/42\/webmail\/attachment\?[^"]+)" download="laporan.bin">/.exec(read.text)![1]);
    expect((await download(mbrain, href)).body.equals(FILE)).toBe(true);
  });

  test('folders: create, move a message in, search on the server, rename, delete to Trash, empty Trash, delete the folder', async () => {
    const token = await jpri.csrf('/lab/42/webmail');
    const folders = (form: Record<string, string>) => jpri.post('/lab/42/webmail/folders', { _csrf: token, ...form });
    let r = await folders({ op: 'create', name: 'Kuliah' });
    expect([r.status, r.location]).toEqual([303, '/lab/42/webmail?folder=Kuliah']);
    let page = await jpri.get(r.location!);
    expect(noticeOf(page.text)).toBe('Folder Kuliah created.');
    expect(protocolLines(page.text)).toEqual(expect.arrayContaining([expect.stringMatching(/^IMAP C: \w+ CREATE Kuliah$/)]));
    expect(page.text).toContain('data-folder="Kuliah"');

    // A name the server would not take, and a special folder, are refused in words.
    r = await folders({ op: 'create', name: 'a*b' });
    expect(noticeOf((await jpri.get(r.location!)).text)).toMatch(/^“a\*b” cannot be a folder name/);
    r = await folders({ op: 'rename', name: 'Trash', to: 'Sampah' });
    expect(noticeOf((await jpri.get(r.location!)).text)).toBe('Trash is one of the special folders: it cannot be renamed or deleted.');
    r = await folders({ op: 'create', name: 'Kuliah' });
    expect(noticeOf((await jpri.get(r.location!)).text)).toMatch(/^The IMAP server of your lab answered: there is a folder Kuliah already$/);

    // Search on the server: SEARCH TEXT.
    page = await jpri.get('/lab/42/webmail?q=laporannya');
    expect(listed(page.text).map((x) => x.subject)).toEqual(['Laporan jaringan']);
    expect(page.text).toContain('1 found for “laporannya” (IMAP SEARCH TEXT on the server)');
    expect(protocolLines(page.text)).toEqual(expect.arrayContaining([expect.stringMatching(/^IMAP C: \w+ UID SEARCH TEXT laporannya$/)]));
    expect(listed((await jpri.get('/lab/42/webmail?q=tidakadasamasekali')).text)).toEqual([]);

    // Move it into Kuliah.
    const { m } = await waitForListed(jpri, '/lab/42/webmail', 'Laporan jaringan');
    r = await jpri.post('/lab/42/webmail/message', { _csrf: token, op: 'move', folder: 'INBOX', uid: String(m.uid), to: 'Kuliah' });
    page = await jpri.get(r.location!);
    expect(noticeOf(page.text)).toBe('Moved to Kuliah.');
    expect(protocolLines(page.text)).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^IMAP C: \\w+ UID MOVE ${m.uid} Kuliah$`))]));
    expect(listed(page.text).some((x) => x.subject === 'Laporan jaringan')).toBe(false);
    const inKuliah = await waitForListed(jpri, '/lab/42/webmail?folder=Kuliah', 'Laporan jaringan');

    // Rename Kuliah to Arsip/2024: the message goes with it.
    r = await folders({ op: 'rename', name: 'Kuliah', to: 'Arsip/2024' });
    expect(r.location).toBe('/lab/42/webmail?folder=Arsip%2F2024');
    page = await jpri.get(r.location!);
    expect(noticeOf(page.text)).toBe('Folder Kuliah renamed to Arsip/2024.');
    expect(listed(page.text).map((x) => x.subject)).toEqual(['Laporan jaringan']);

    // Delete: to Trash; in Trash, for good; Empty Trash.
    const moved = listed(page.text)[0];
    r = await jpri.post('/lab/42/webmail/message', { _csrf: token, op: 'delete', folder: 'Arsip/2024', uid: String(moved.uid) });
    expect(noticeOf((await jpri.get(r.location!)).text)).toBe('Moved to Trash.');
    page = (await waitForListed(jpri, '/lab/42/webmail?folder=Trash', 'Laporan jaringan')).page;
    expect(page.text).toContain('Empty Trash');
    void inKuliah;
    r = await jpri.post('/lab/42/webmail/empty-trash', { _csrf: token });
    page = await jpri.get(r.location!);
    expect(noticeOf(page.text)).toBe('Trash emptied: 1 message(s) deleted for good.');
    expect(protocolLines(page.text)).toEqual(expect.arrayContaining([expect.stringMatching(/^IMAP C: \w+ STORE 1:\* \+FLAGS \(\\Deleted\)$/), expect.stringMatching(/^IMAP C: \w+ EXPUNGE$/)]));
    expect(listed(page.text)).toEqual([]);

    r = await folders({ op: 'delete', name: 'Arsip/2024' });
    page = await jpri.get(r.location!);
    expect(noticeOf(page.text)).toBe('Folder Arsip/2024 deleted.');
    expect(page.text).not.toContain('data-folder="Arsip/2024"');
  });
});

describe('paging', () => {
  test('20 a page, newest first, with Newer / Older links and the page shown', async () => {
    const t = createTransport({ host: '127.0.0.1', port: port(D, 'smtp'), secure: false, pool: true, maxConnections: 1, tls: { rejectUnauthorized: false } });
    for (let i = 1; i <= 23; i++) await t.sendMail({ from: `mbrain@${G}`, to: `siswa4@${D}`, subject: `Nomor ${String(i).padStart(2, '0')}`, text: `${i}` });
    t.close();
    const siswa4 = new WebClient(bed.web.url);
    await siswa4.login(`siswa4@${D}`, PASSWORD, 42);
    const end = Date.now() + 15_000;
    let first = await siswa4.get('/lab/42/webmail');
    while (!first.text.includes('data-total="23"') && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 200));
      first = await siswa4.get('/lab/42/webmail');
    }
    const one = listed(first.text).map((m) => m.subject);
    expect(one).toHaveLength(20);
    expect(one[0]).toBe('Nomor 23');
    expect(one[19]).toBe('Nomor 04');
    expect(first.text).toContain('page 1 of 2');
    expect(first.text).toContain('<a href="/lab/42/webmail?page=2" rel="next">Older →</a>');
    expect(protocolLines(first.text)).toEqual(expect.arrayContaining([expect.stringMatching(/^IMAP C: \w+ FETCH 4:23 \(UID FLAGS [A-Z0-9. ]*ENVELOPE[A-Z0-9. ]*\)$/)]));
    const two = await siswa4.get('/lab/42/webmail?page=2');
    expect(listed(two.text).map((m) => m.subject)).toEqual(['Nomor 03', 'Nomor 02', 'Nomor 01']);
    expect(two.text).toContain('<a href="/lab/42/webmail">← Newer</a>');
    // A page past the end shows the last one.
    expect(listed((await siswa4.get('/lab/42/webmail?page=9')).text)).toHaveLength(3);
  });
});

describe('bad input and safety', () => {
  const evilName = '<img src=x onerror=alert(1)> "Eve"';
  const evilSubject = '<b>Penting</b> & <script>alert(2)</script>';
  const html = [
    '<html><head><style>body{background:url(http://127.0.0.1:9/css.png)}</style><script>window.pwned=1</script></head>',
    '<body onload="window.pwned=2"><h1>Promo</h1><p>Halo <b>Joko</b>!</p>',
    '<img src="x" onerror="window.pwned=3">',
    '<img src="http://127.0.0.1:9/track.png" alt="pixel">',
    '<form action="http://127.0.0.1:9/steal" method="post"><input name="password"><button>Kirim</button></form>',
    '<a href="javascript:alert(4)">klik</a> <iframe src="http://127.0.0.1:9/"></iframe>',
    '<svg onload="window.pwned=5"><circle r="5"/></svg><object data="http://127.0.0.1:9/x"></object>',
    '<p style="color:red">merah</p><img src="cid:logo@lab" alt="logo"></body></html>',
  ].join('\n');
  let uid: number;

  beforeAll(async () => {
    const t = createTransport({ host: '127.0.0.1', port: port(D, 'smtp'), secure: false, tls: { rejectUnauthorized: false } });
    await t.sendMail({
      from: { name: evilName, address: 'eve@garudayaksa.com' },
      to: `jpri@${D}`,
      subject: evilSubject,
      text: 'Versi teks: <script>alert(3)</script>',
      html,
      attachments: [
        { filename: '../../<script>alert(1)</script>.txt', content: 'isi' },
        { filename: 'logo.png', cid: 'logo@lab', contentType: 'image/png', content: Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64') },
      ],
    });
    t.close();
    uid = (await waitForListed(jpri, '/lab/42/webmail', evilSubject)).m.uid;
  });

  test('subjects, names and file names with markup are shown as text', async () => {
    const list = await jpri.get('/lab/42/webmail');
    expect(list.text).toContain('&lt;b&gt;Penting&lt;/b&gt; &amp; &lt;script&gt;alert(2)&lt;/script&gt;');
    expect(list.text).toContain('&lt;img src=x onerror=alert(1)&gt; &quot;Eve&quot;');
    const read = await jpri.get(`/lab/42/webmail?uid=${uid}`);
    expect(read.text).not.toMatch(/<script>alert|<img src=x|<b>Penting/);
    expect(read.text).toContain('<pre class="body-text">Versi teks: &lt;script&gt;alert(3)&lt;/script&gt;</pre>');
    // The file name: its last part, markup made harmless; the download says the same.
    expect(read.text).toContain('<span class="file-name">script_.txt</span>');
    const href = unescape(/<a href="(\/lab\/42\/webmail\/attachment\?[^"]+)" download="script_.txt">/.exec(read.text)![1]);
    const file = await download(jpri, href);
    expect(file.headers.get('content-disposition')).toBe(`attachment; filename="script_.txt"; filename*=UTF-8''script_.txt`);
    expect(file.body.toString()).toBe('isi');
    // The inline logo is part of the HTML, not a listed attachment.
    const attachments = /<section class="attachments"[\s\S]*?<\/section>/.exec(read.text)![0];
    expect(attachments).toContain('script_.txt');
    expect(attachments).not.toContain('logo.png');
  });

  test('HTML mail: text first; the HTML sanitised in a sandboxed frame with its own CSP; nothing runs, loads or posts', async () => {
    const text = await jpri.get(`/lab/42/webmail?uid=${uid}`);
    expect(text.text).toContain('data-view="text"');
    expect(text.text).not.toContain('<iframe');
    const page = await jpri.get(`/lab/42/webmail?uid=${uid}&view=html`);
    expect(page.text).toContain('data-view="html"');
    const frame = /<iframe class="mail-html" title="[^"]*" sandbox="" referrerpolicy="no-referrer" srcdoc="([^"]*)"><\/iframe>/.exec(page.text);
    expect(frame).not.toBeNull();
    const doc = unescape(frame![1]);
    expect(doc).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; img-src data:; style-src &#39;none&#39;; script-src &#39;none&#39;; form-action &#39;none&#39;`);
    expect(doc).toContain('<h1>Promo</h1><p>Halo <b>Joko</b>!</p>');
    for (const bad of ['<script', 'onerror', 'onload', '<form', '<input', '<iframe', '<svg', '<object', '<style', 'style=', 'javascript:', 'src="http', 'href=']) expect(doc).not.toContain(bad);
    expect(doc).toContain('[remote image not loaded: http://127.0.0.1:9/track.png]');
    expect(doc).toMatch(/<img alt="logo" src="data:image\/png;base64,iVBORw0KGgo[^"]*">/);
    expect(page.text).toContain('For safety: 1 script(s), 3 event handler(s), 1 form(s) and 2 remote image(s) were left out.');
    // The page itself: the CSP forbids inline scripts and any other origin.
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('content-security-policy')).toContain("img-src 'self' data:");
  });

  test('an upload over the lab’s limits.maxMessageSize is refused with the limit in words, and nothing is sent', async () => {
    const big = Buffer.alloc(10.5 * 1024 * 1024, 7);
    const r = await send(mbrain, { to: `jpri@${D}`, subject: 'Terlalu besar', body: 'lihat lampiran' }, [{ filename: 'besar.bin', type: 'application/octet-stream', content: big }]);
    expect(r.status).toBe(413);
    expect(noticeOf(r.text)).toBe('Too big: the message with its attachments is 10.5 MB, and this lab accepts at most 10 MB per message (limits.maxMessageSize = 10485760 bytes). Leave out a file, or send it in a smaller size.');
    // The form keeps what was written.
    expect(r.text).toContain('name="subject" value="Terlalu besar"');
    // Under the limit as a file, over it once base64-encoded: the same, said so.
    const r2 = await send(mbrain, { to: `jpri@${D}`, subject: 'Terlalu besar 2', body: '' }, [{ filename: 'b.bin', type: 'application/octet-stream', content: Buffer.alloc(8 * 1024 * 1024, 1) }]);
    expect(r2.status).toBe(413);
    expect(noticeOf(r2.text)).toMatch(/^Too big: encoded for mail \(base64 makes files a third bigger\) the message is 10\.\d MB, and this lab accepts at most 10 MB/);
    // In Indonesian.
    const r3 = await postMultipart(mbrain, '/lab/42/webmail/send?lang=id', { _csrf: await mbrain.csrf('/lab/42/webmail/compose'), to: `jpri@${D}`, subject: 'x', body: '' }, [{ name: 'attachment', filename: 'besar.bin', type: 'application/octet-stream', content: big }]);
    expect(noticeOf(r3.text)).toMatch(/^Terlalu besar: pesan beserta lampirannya 10,5 MB, sedangkan lab ini menerima paling besar 10 MB per pesan/);
    await mbrain.get('/lab/42/webmail?lang=en');
    const sentBox = await mbrain.get('/lab/42/webmail?folder=Sent');
    expect(listed(sentBox.text).some((x) => x.subject.startsWith('Terlalu besar'))).toBe(false);
  });

  test('a recipient that is not an address: said, nothing sent', async () => {
    const r = await send(mbrain, { to: 'joko', subject: 'x', body: 'y' });
    expect(r.status).toBe(400);
    expect(noticeOf(r.text)).toBe('“joko” is not an e-mail address (user@domain).');
    expect(noticeOf((await send(mbrain, { to: '', subject: 'x', body: 'y' })).text)).toBe('Who is it for? Write at least one address in To or Cc.');
  });

  test("another lab's pages, the instructor and cross-site forms: 403; no login: 401", async () => {
    for (const path of ['/lab/43/webmail', '/lab/43/', '/lab/43/webmail/compose', '/lab/43/webmail/protocol', '/lab/43/ca.crt']) expect([path, (await jpri.get(path)).status]).toEqual([path, 403]);
    // Another account's mailbox file.
    expect((await jpri.get(`/lab/42/mailbox/mbrain@${G}`)).status).toBe(403);
    const guru = new WebClient(bed.web.url);
    await guru.login('guru', PASSWORD);
    expect((await guru.get('/lab/42/webmail')).status).toBe(403);
    expect((await new WebClient(bed.web.url).get('/lab/42/webmail')).status).toBe(401);
    const token = await jpri.csrf('/lab/42/webmail');
    const cross = await jpri.post('/lab/42/webmail/folders', { _csrf: token, op: 'create', name: 'X' }, { origin: 'http://evil.example' });
    expect(cross.status).toBe(403);
    expect((await jpri.post('/lab/42/webmail/folders', { _csrf: 'wrong', op: 'create', name: 'X' })).status).toBe(403);
  });
});

describe('a mail server that does not answer', () => {
  test('the Webmail says so in words (502); sending through the other domain still works (the message waits in its queue)', async () => {
    await bed.lab.stopDomain(D);
    try {
      const page = await jpri.get('/lab/42/webmail');
      expect(page.status).toBe(502);
      expect(unescape(noticeOf(page.text)!)).toBe("Your lab's mail server does not answer (ECONNREFUSED). Is the lab running?");
      const sent = await send(mbrain, { to: `jpri@${D}`, subject: 'x', body: 'y' });
      // Submission is garudayaksa's (up): the message is queued for dadali.com, it waits in the queue.
      expect(sent.status).toBe(303);
    } finally {
      await bed.lab.startDomain(D);
    }
    expect((await jpri.get('/lab/42/webmail')).status).toBe(200);
  });
});

describe('My lab', () => {
  test('the lab number, its ports, the accounts, the CA certificate, the worksheets and the own mailbox file', async () => {
    const page = await jpri.get('/lab/42/');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<h1>My lab: lab 42</h1>');
    expect(page.text).toContain(`You are logged in as Joko Priyono &lt;jpri@${D}&gt;.`);
    for (const d of bed.lab.config.domains) for (const p of ['smtp', 'submission', 'pop3', 'imap'] as const) expect(page.text).toContain(`<td>${d.ports[p]}</td>`);
    expect(page.text).toContain(`Lab DNS (53, UDP and TCP): port ${bed.lab.config.dns.hostPort}`);
    expect(page.text).toMatch(/<li class="me"><code>jpri@dadali.com<\/code> <span>Joko Priyono<\/span> <strong>\(you\)<\/strong><\/li>/);
    expect(page.text).toContain('<code>mbrain@garudayaksa.com</code>');
    expect(page.text).not.toContain(PASSWORD);
    // The CA, through the web server (the admin API stays on loopback).
    const ca = await bed.lab.target().mail(D).call(MAIL_API.ca);
    expect(page.text).toContain(`SHA-256 fingerprint: ${ca.fingerprint256}`);
    const file = await download(jpri, '/lab/42/ca.crt');
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('application/x-x509-ca-cert');
    expect(file.headers.get('content-disposition')).toBe('attachment; filename="mail-lab-ca-lab42.crt"');
    expect(file.body.toString()).toBe(ca.pem);
    // The worksheets in the page's language.
    expect(page.text).toContain('<a href="/lab/42/guide/simplest-mail-server">');
    const sheets = readdirSync(join(__dirname, '../../../docs/guide/en')).filter((f) => f.endsWith('.md')).length;
    expect(page.text).toMatch(new RegExp(`<ol class="worksheets">(<li>.*?</li>){${sheets}}</ol>`));
    // The own INBOX file as cat shows it, from the admin API through the web server.
    expect(page.text).toMatch(/Your INBOX is one plain-text file on the mail server: [^<]*dadali.com\/mail\/jpri \(\d+(\.\d)? KB\)/);
    expect(page.text).toMatch(/<pre class="mbox-tail" data-lines="\d+">[\s\S]*<\/pre>/);
    expect(page.text).toContain('<a href="/lab/42/mailbox/jpri">The whole file, live</a>');
    // In Indonesian.
    const id = await jpri.get('/lab/42/?lang=id');
    expect(id.text).toContain('<h1>Lab saya: lab 42</h1>');
    expect(id.text).toContain('Port di komputer ini');
    await jpri.get('/lab/42/?lang=en');
    // The instructor sees the page of any lab, without a mailbox of their own.
    const guru = new WebClient(bed.web.url);
    await guru.login('guru', PASSWORD);
    const g = await guru.get('/lab/43/');
    expect(g.status).toBe(200);
    expect(g.text).toContain('You are the instructor');
    expect(g.text).not.toContain('mbox-tail');
  });

  test('a worksheet, read-only, in either language; a name that is not one: 404', async () => {
    const en = await jpri.get('/lab/42/guide/imap-folders-search');
    expect(en.status).toBe(200);
    expect(en.text).toContain('<h1>Worksheet: IMAP keeps mail on the server, in folders, searchable</h1>');
    expect(en.text).toContain('<pre class="code lang-text"><code>* OK [CAPABILITY');
    expect(en.text).toContain('add 4200 to every port (garudayaksa.com IMAP 10143 → ');
    expect(en.text).toContain('href="/lab/42/guide/imap-folders-search?lang=id"');
    const id = await jpri.get('/lab/42/guide/imap-folders-search?lang=id');
    expect(id.text).toContain('<h1>Lembar Kerja: IMAP menyimpan surat di server, dalam folder, dan bisa dicari</h1>');
    await jpri.get('/lab/42/?lang=en');
    for (const bad of ['/lab/42/guide/nope', '/lab/42/guide/..%2F..%2Fpackage', '/lab/42/guide/README']) expect([bad, (await jpri.get(bad)).status]).toEqual([bad, 404]);
  });
});

describe('an ended session', () => {
  test('a message sent after the session ended: the login, then the compose form again with the draft (files not kept, said so)', async () => {
    const short = await startWebTestBed({ sessions: { idleMs: 500 } });
    try {
      const b = new WebClient(short.web.url);
      await b.login(`siswa2@${G}`, PASSWORD, 42);
      const token = await b.csrf('/lab/42/webmail/compose');
      await new Promise((r) => setTimeout(r, 700));
      const sent = await postMultipart(b, '/lab/42/webmail/send', { _csrf: token, _next: '/lab/42/webmail/compose', mode: 'new', to: `jpri@${D}`, cc: '', subject: 'Tugas <1>', body: 'Jawaban saya ...' }, [{ name: 'attachment', filename: 'a.txt', type: 'text/plain', content: Buffer.from('x') }]);
      expect(sent.status).toBe(401);
      const next = unescape(/name="next" value="([^"]+)"/.exec(sent.text)![1]);
      expect(next).toMatch(/^\/lab\/42\/webmail\/compose\?draft=[\w-]+$/);
      const back = await b.login(`siswa2@${G}`, PASSWORD, 42, next);
      expect(back.location).toBe(next);
      const form = await b.get(next);
      expect(form.text).toContain('Your session had ended: here is what you wrote. Attached files are not kept; choose them again.');
      expect(form.text).toContain(`name="to" value="jpri@${D}"`);
      expect(form.text).toContain('name="subject" value="Tugas &lt;1&gt;"');
      expect(form.text).toContain('Jawaban saya ...</textarea>');
      // Once: the draft is gone after it came back.
      expect((await b.get(next)).text).not.toContain('Jawaban saya');
      // A lab without TLS: My lab says there is no CA.
      const my = await b.get('/lab/42/');
      expect(my.text).toContain('TLS is off in this lab: there is no CA certificate.');
      expect((await b.get('/lab/42/ca.crt')).status).toBe(404);
    } finally {
      await short.close();
    }
  });
});
