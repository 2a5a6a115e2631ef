/**
 * The rest of the worksheet tasks on a real no-Docker lab with short queue
 * timings, each done the way its worksheet says (raw sockets, the
 * instructor's faults, nodemailer as the mail program, Python's poplib and
 * imaplib), then checked from the servers' records: open-relay-refused,
 * mail-loop, greylisting, early-talker, delay-warning, dns-outage,
 * cross-domain-delivery both ways, pop3-vs-imap, attachments. The lab is
 * the student (a lab per student), as after `class up`.
 */
import { execFile } from 'node:child_process';
import nodemailer from 'nodemailer';
import { faultFromArgs } from '../../../services/core/src/faults';
import { gatherActivity } from '../../../services/core/src/check/gather';
import { buildRecords } from '../../../services/core/src/check/records';
import { checkStudents } from '../../../services/core/src/check/evaluate';
import type { TaskResult } from '../../../services/core/src/check/tasks';
import { setFault } from '../../../scripts/faults/apply';
import { eventually, startTestLab, Wire, type TestLab } from '../helpers/test-lab';
import { inbox, submit, withSubject } from '../faults/helpers';

jest.setTimeout(60_000);
let lab: TestLab;
const port = (domain: string, kind: 'smtp' | 'submission' | 'pop3' | 'imap') => lab.config.domains.find((d) => d.name === domain)!.ports[kind];
const fault = (kind: string, args: string[], on: boolean, opts = {}) => setFault(lab.target(), faultFromArgs(lab.config, kind, args, opts, !on), on);

async function check(task: string): Promise<TaskResult> {
  const t = lab.target();
  const records = buildRecords(await gatherActivity({ lab: 0, config: lab.config, mail: (d) => t.mail(d), dns: () => t.dns() }));
  return checkStudents(records, [{ kind: 'lab', lab: 0, label: 'lab 0' }], [task])[0].results[0];
}

function python(script: string): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('python3', ['-c', script], { encoding: 'utf8', timeout: 20_000 }, (err, stdout, stderr) => (err ? reject(new Error(`python3 failed: ${stderr}`)) : resolve(stdout))),
  );
}

async function session(domain: string, lines: string[], portKind: 'smtp' | 'submission' = 'smtp'): Promise<string[]> {
  const w = await Wire.connect(port(domain, portKind));
  const replies = [await w.reply()];
  for (const l of lines) replies.push(await w.send(l));
  w.close();
  return replies;
}

beforeAll(async () => {
  lab = await startTestLab({ timing: { retryInterval: '300ms', warnAfter: '1s', returnAfter: '2500ms' } });
}, 30_000);
afterAll(() => lab?.close());

test('open-relay-refused: 554 5.7.1 on port 25 as a stranger, accepted on 587 after AUTH', async () => {
  await session('dadali.com', ['EHLO pc-asing', 'MAIL FROM:<asing@luar.example>', 'RCPT TO:<mbrain@garudayaksa.com>', 'QUIT']);
  let r = await check('open-relay-refused');
  expect(r.state).toBe('partly');
  expect(r.evidence[0]).toMatch(/^port 25 of dadali\.com refused RCPT TO:<mbrain@garudayaksa\.com> at \d\d:\d\d:\d\d: 554 5\.7\.1 <mbrain@garudayaksa\.com>: Relay access denied .* \(from 127\.0\.0\.1, MAIL FROM:<asing@luar\.example>\)$/);
  const plain = Buffer.from('\0jpri@dadali.com\0rahasia123').toString('base64');
  await session('dadali.com', ['EHLO pc-siswa', `AUTH PLAIN ${plain}`, 'MAIL FROM:<jpri@dadali.com>', 'RCPT TO:<mbrain@garudayaksa.com>', 'RSET', 'QUIT'], 'submission');
  r = await check('open-relay-refused');
  expect(r.state).toBe('done');
  expect(r.evidence[1]).toMatch(/^after AUTH as jpri on port 587 of dadali\.com, RCPT TO:<mbrain@garudayaksa\.com> was accepted at \d\d:\d\d:\d\d \(250 2\.1\.5 Accepted\)$/);
});

test('mail-loop: 30 Received: lines refused with 554 5.4.6, 29 accepted', async () => {
  const hops = (n: number) => Array.from({ length: n }, () => 'Received: from mail.garudayaksa.com by mail.dadali.com; Thu, 26 Nov 2026 08:00:00 +0000').join('\r\n');
  const loop = (n: number) => ['HELO pc-siswa', 'MAIL FROM:<siswa1@garudayaksa.com>', 'RCPT TO:<siswa1@dadali.com>', 'DATA', `${hops(n)}\r\nSubject: Berputar-putar ${n}\r\n\r\nSudah ${n} kali.\r\n.`, 'QUIT'];
  expect((await session('dadali.com', loop(30)))[5]).toMatch(/^554 5\.4\.6 /);
  expect((await check('mail-loop')).state).toBe('partly');
  expect((await session('dadali.com', loop(29)))[5]).toMatch(/^250 /);
  const r = await check('mail-loop');
  expect(r.state).toBe('done');
  expect(r.evidence).toEqual([
    expect.stringMatching(/^a message refused at \d\d:\d\d:\d\d on dadali\.com port 25 from 127\.0\.0\.1: 554 5\.4\.6 Too many hops \(30 Received: headers\)/),
    expect.stringMatching(/^a message with 29 Received: lines accepted at \d\d:\d\d:\d\d on dadali\.com port 25 from 127\.0\.0\.1 \(queued as \w+; the limit is 30\)$/),
  ]);
});

test('greylisting: the typed RCPT greylisted then accepted, and a real server’s queue delivering at its retry', async () => {
  await fault('greylist', ['dadali.com'], true, { delay: '700ms' });
  try {
    // As the worksheet: RCPT greylisted, QUIT; a session is in the records once it has ended.
    const rcpt = ['HELO pc-siswa', 'MAIL FROM:<siswa1@garudayaksa.com>', 'RCPT TO:<jpri@dadali.com>', 'QUIT'];
    expect((await session('dadali.com', rcpt))[3]).toMatch(/^451 4\.7\.1 Greylisted/);
    expect((await check('greylisting')).missing).toContain('the same RCPT TO accepted again after the waiting time (250)');
    await new Promise((r) => setTimeout(r, 800));
    expect((await session('dadali.com', rcpt))[3]).toMatch(/^250 /);
    await submit(lab, 'mbrain@garudayaksa.com', ['siswa3@dadali.com'], 'Greylist');
    await eventually('delivered after greylisting', async () => withSubject(await inbox(lab, 'dadali.com', 'siswa3'), 'Greylist').length === 1);
  } finally {
    await fault('greylist', ['dadali.com'], false);
  }
  const r = await check('greylisting');
  expect(r.state).toBe('done');
  expect(r.evidence[0]).toMatch(/^RCPT TO:<jpri@dadali\.com> greylisted at \d\d:\d\d:\d\d on dadali\.com port 25 from 127\.0\.0\.1 \(451 4\.7\.1 Greylisted, try again in 1 s\), accepted again at \d\d:\d\d:\d\d \(250 2\.1\.5 Accepted\)$/);
  expect(r.evidence[1]).toMatch(/^mbrain@garudayaksa\.com → siswa3@dadali\.com: deferred by greylisting at .*451 4\.7\.1 Greylisted.*, delivered by the queue's own retry at \d\d:\d\d:\d\d \(queue \w+\)$/);
});

test('early-talker: EHLO before the greeting cut off with 421, then a session that waited', async () => {
  await fault('greet-delay', ['dadali.com'], true, { delay: '400ms' });
  try {
    const w = await Wire.connect(port('dadali.com', 'smtp'));
    w.write('EHLO pc-siswa\r\n');
    expect(await w.reply()).toMatch(/^421 .*You talk too soon$/);
    w.close();
    expect((await check('early-talker')).state).toBe('partly');
    await session('dadali.com', ['EHLO pc-siswa', 'QUIT']);
  } finally {
    await fault('greet-delay', ['dadali.com'], false);
  }
  const r = await check('early-talker');
  expect(r.state).toBe('done');
  expect(r.evidence).toEqual([
    expect.stringMatching(/^at \d\d:\d\d:\d\d EHLO pc-siswa was sent before the greeting and cut off: 421 mail\.dadali\.com You talk too soon \(on dadali\.com port 25 from 127\.0\.0\.1\)$/),
    expect.stringMatching(/^at \d\d:\d\d:\d\d a session that waited for the greeting: EHLO pc-siswa answered 250 /),
  ]);
});

test('delay-warning and dns-outage from the queue: warned then returned on a cut link; deferred by SERVFAIL then delivered', async () => {
  await lab.cut('garudayaksa.com', 'dadali.com');
  const id = await submit(lab, 'siswa3@garudayaksa.com', ['jpri@dadali.com'], 'Laporan praktikum');
  await eventually('returned', async () => withSubject(await inbox(lab, 'garudayaksa.com', 'siswa3'), 'Undelivered Mail Returned to Sender').length === 1, 15_000);
  await lab.restore('garudayaksa.com', 'dadali.com');
  const w = await check('delay-warning');
  expect(w.state).toBe('done');
  expect(w.evidence[0]).toMatch(new RegExp(`^siswa3@garudayaksa\\.com → jpri@dadali\\.com sent at \\d\\d:\\d\\d:\\d\\d; the delay warning \\("Delayed Mail \\(still being retried\\)"\\) was sent at \\d\\d:\\d\\d:\\d\\d; returned at the end of its lifetime at \\d\\d:\\d\\d:\\d\\d after \\d+ attempts \\(queue ${id}\\)$`));

  await fault('dns-servfail', ['dadali.com'], true);
  const q = lab.domains['garudayaksa.com'].queue;
  let dnsId: string;
  try {
    dnsId = await submit(lab, 'mbrain@garudayaksa.com', ['siswa4@dadali.com'], 'Zona rusak');
    await eventually('deferred by DNS', () => q.list().find((e) => e.id === dnsId && e.attempts >= 1));
    expect((await check('dns-outage')).state).toBe('partly');
  } finally {
    await fault('dns-servfail', ['dadali.com'], false);
  }
  q.flush();
  await eventually('delivered after the repair', async () => withSubject(await inbox(lab, 'dadali.com', 'siswa4'), 'Zona rusak').length === 1);
  const d = await check('dns-outage');
  expect(d.state).toBe('done');
  expect(d.evidence[0]).toMatch(new RegExp(`^mbrain@garudayaksa\\.com → siswa4@dadali\\.com sent at \\d\\d:\\d\\d:\\d\\d, deferred \\d+ times? because DNS did not answer \\(MX lookup for dadali\\.com: DNS lookup failed \\(ESERVFAIL\\)\\), delivered at \\d\\d:\\d\\d:\\d\\d \\(queue ${dnsId!}\\), not returned$`));
});

test('cross-domain-delivery there and back, pop3-vs-imap and attachments (MIME and uuencode, read back over POP3)', async () => {
  await submit(lab, 'mbrain@garudayaksa.com', ['jpri@dadali.com'], 'Makan siang');
  await submit(lab, 'jpri@dadali.com', ['mbrain@garudayaksa.com'], 'Re: Makan siang');
  await eventually('both delivered', async () => withSubject(await inbox(lab, 'garudayaksa.com', 'mbrain'), 'Re: Makan siang').length === 1 && withSubject(await inbox(lab, 'dadali.com', 'jpri'), 'Makan siang').length >= 1);
  const c = await check('cross-domain-delivery');
  expect(c.state).toBe('done');
  expect(c.evidence).toEqual([
    expect.stringMatching(/^mbrain@garudayaksa\.com → \w+@dadali\.com sent at \d\d:\d\d:\d\d, delivered by garudayaksa\.com to the server of dadali\.com at \d\d:\d\d:\d\d \(queue \w+\)$/),
    expect.stringMatching(/^jpri@dadali\.com → mbrain@garudayaksa\.com sent at .* delivered by dadali\.com to the server of garudayaksa\.com at/),
  ]);

  // Two IMAP clients read siswa4@garudayaksa.com's INBOX, then POP3 downloads and deletes.
  for (const s of ['Jadwal ujian', 'Materi IMAP']) await submit(lab, 'mbrain@garudayaksa.com', ['siswa4@garudayaksa.com'], s);
  await eventually('delivered', async () => (await inbox(lab, 'garudayaksa.com', 'siswa4')).length === 2);
  const imap = `import imaplib
i = imaplib.IMAP4('127.0.0.1', ${port('garudayaksa.com', 'imap')}); i.login('siswa4', 'rahasia123'); i.select('INBOX'); i.fetch('1:*', '(BODY.PEEK[])'); i.logout()`;
  await python(imap);
  expect((await check('pop3-vs-imap')).missing).toEqual(['a second IMAP client (another session) reading the same mailbox', 'a POP3 download that deletes (RETR, DELE, QUIT) after the IMAP reads']);
  await python(imap);
  await python(`import poplib
p = poplib.POP3('127.0.0.1', ${port('garudayaksa.com', 'pop3')}); p.user('siswa4'); p.pass_('rahasia123'); p.retr(1); p.retr(2); p.dele(1); p.dele(2); p.quit()`);
  const v = await check('pop3-vs-imap');
  expect(v.state).toBe('done');
  expect(v.evidence).toEqual([
    expect.stringMatching(/^siswa4@garudayaksa\.com read over IMAP in 2 sessions \(\d\d:\d\d:\d\d, \d\d:\d\d:\d\d\)$/),
    expect.stringMatching(/^then downloaded and deleted over POP3 at \d\d:\d\d:\d\d: \+OK .*\(2 messages deleted, 0 left\)$/),
  ]);

  // The lab's mail program sends with nodemailer: a MIME attachment, and a uuencoded file in the text.
  const t = nodemailer.createTransport({ host: '127.0.0.1', port: port('garudayaksa.com', 'submission'), secure: false, ignoreTLS: true, auth: { user: 'mbrain@garudayaksa.com', pass: 'rahasia123' } });
  const foto = Buffer.from([0, 1, 2, 255, 254, 10, 13, 65]);
  await t.sendMail({ from: 'mbrain@garudayaksa.com', to: 'siswa2@dadali.com', subject: 'Lampiran MIME', text: 'Ini lampirannya.', attachments: [{ filename: 'foto.bin', content: foto }] });
  await t.sendMail({ from: 'mbrain@garudayaksa.com', to: 'siswa2@dadali.com', subject: 'Lampiran uuencode', text: 'Cara lama.\n\nbegin 644 foto.bin\n(``$"__X*#4$`\n`\nend\n' });
  t.close();
  await eventually('both delivered', async () => (await inbox(lab, 'dadali.com', 'siswa2')).length === 2);
  expect((await check('attachments')).missing).toEqual(['reading them back (mail-lab-client save-attachments, over POP3 or IMAP)']);
  await python(`import poplib
p = poplib.POP3('127.0.0.1', ${port('dadali.com', 'pop3')}); p.user('siswa2'); p.pass_('rahasia123'); p.retr(1); p.retr(2); p.quit()`);
  const a = await check('attachments');
  expect(a.state).toBe('done');
  expect(a.evidence).toEqual([
    expect.stringMatching(/^a MIME attachment sent at \d\d:\d\d:\d\d \("Lampiran MIME" to siswa2@dadali\.com, queue \w+\); read back over POP3 by siswa2@dadali\.com at \d\d:\d\d:\d\d$/),
    expect.stringMatching(/^a uuencoded file sent at \d\d:\d\d:\d\d \("Lampiran uuencode" to siswa2@dadali\.com, queue \w+\); read back over POP3 by siswa2@dadali\.com at/),
  ]);
});

test('mail-client-setup: SRV questions, then an IMAP login with ID and a message on 587 after AUTH (the program Thunderbird is)', async () => {
  // One account as the student (a shared lab): the other tests' logins and submissions are not siswa5's.
  const mine = async () => {
    const t = lab.target();
    const records = buildRecords(await gatherActivity({ lab: 0, config: lab.config, mail: (d) => t.mail(d), dns: () => t.dns() }));
    return checkStudents(records, [{ kind: 'account', lab: 0, label: 'siswa5', addresses: ['siswa5@garudayaksa.com'] }], ['mail-client-setup'])[0].results[0];
  };
  const before = await mine();
  expect(before.state).toBe('not-yet');
  expect(before.missing).toEqual([
    'the mail program reading the mailbox: a login over IMAP (port 143) or POP3 (port 110)',
    'the mail program sending: a message on the submission port (587) after logging in (AUTH)',
  ]);
  // Automatic set-up: the RFC 6186 names asked of the lab DNS, with dig as a student would.
  for (const name of ['_submission._tcp.garudayaksa.com', '_imap._tcp.garudayaksa.com']) {
    await new Promise<void>((resolve, reject) => execFile('dig', ['+short', '-p', String(lab.config.dns.hostPort), '@127.0.0.1', 'SRV', name], { timeout: 10_000 }, (e) => (e ? reject(e) : resolve())));
  }
  // The reading side: Python's imaplib says who it is (ID, RFC 2971) as Thunderbird does, then logs in.
  await python(`import imaplib
i = imaplib.IMAP4('127.0.0.1', ${port('garudayaksa.com', 'imap')}); i.xatom('ID', '("name" "Thunderbird" "version" "128.5.0")'); i.login('siswa5@garudayaksa.com', 'rahasia123'); i.select('INBOX'); i.logout()`);
  const half = await mine();
  expect(half.state).toBe('partly');
  expect(half.evidence[0]).toMatch(/^siswa5@garudayaksa\.com logged in over IMAP at \d\d:\d\d:\d\d on garudayaksa\.com port 143 from 127\.0\.0\.1; the program said it is Thunderbird 128\.5\.0 \(IMAP ID\)$/);
  expect(half.missing).toEqual(['the mail program sending: a message on the submission port (587) after logging in (AUTH)']);
  await submit(lab, 'siswa5@garudayaksa.com', ['siswa1@dadali.com'], 'Dari Thunderbird');
  const r = await mine();
  expect(r.state).toBe('done');
  expect(r.evidence).toEqual([
    expect.stringMatching(/^siswa5@garudayaksa\.com logged in over IMAP at .*Thunderbird 128\.5\.0 \(IMAP ID\)$/),
    expect.stringMatching(/^a message sent after a password \(AUTH as siswa5\) at \d\d:\d\d:\d\d on garudayaksa\.com port 587 from 127\.0\.0\.1, to <siswa1@dadali\.com>$/),
  ]);
  // DNS questions carry only the client's address; here 127.0.0.1 is every account's, so they count for the lab as a whole.
  expect((await check('mail-client-setup')).evidence).toContain('automatic set-up: asked the lab DNS for SRV _submission._tcp.garudayaksa.com and SRV _imap._tcp.garudayaksa.com');
});
