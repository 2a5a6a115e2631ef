/** The SMTP dialogue a student types by hand: every command of the lesson answers meaningfully. */
import { startTestLab, Wire, eventually, type TestLab } from '../helpers/test-lab';

let lab: TestLab;
beforeAll(async () => {
  lab = await startTestLab();
});
afterAll(() => lab.close());

const port = (d: string) => lab.config.domains.find((x) => x.name === d)!.ports.smtp;

test('a hand-typed session on port 25: greeting, EHLO extensions, HELP, VRFY, EXPN, VERB, NOOP, RSET, QUIT', async () => {
  const w = await Wire.connect(port('dadali.com'));
  expect(await w.reply()).toMatch(/^220 mail\.dadali\.com .*ESMTP/);
  const ehlo = await w.send('EHLO client.garudayaksa.com');
  for (const ext of ['PIPELINING', '8BITMIME', 'SIZE 10485760', 'ENHANCEDSTATUSCODES']) expect(ehlo).toContain(ext);
  expect(ehlo).not.toContain('AUTH');
  const helpAll = await w.send('HELP');
  expect(helpAll).toMatch(/^214-/);
  for (const c of ['HELO', 'EHLO', 'MAIL', 'RCPT', 'DATA', 'RSET', 'NOOP', 'QUIT', 'HELP', 'VRFY', 'EXPN', 'VERB']) expect(helpAll).toContain(c);
  expect(await w.send('HELP RCPT')).toMatch(/^214 2\.0\.0 RCPT TO:<recipient@domain>/);
  expect(await w.send('HELP FOO')).toMatch(/^504 5\.5\.1/);
  expect(await w.send('VRFY jpri')).toBe('250 2.1.5 Joko Priyono <jpri@dadali.com>');
  expect(await w.send('VRFY <JPRI@dadali.com>')).toBe('250 2.1.5 Joko Priyono <jpri@dadali.com>');
  expect(await w.send('VRFY nobody')).toMatch(/^550 5\.1\.1 <nobody@dadali\.com>/);
  expect(await w.send('VRFY staff')).toMatch(/^252 /);
  expect(await w.send('VRFY')).toMatch(/^501 /);
  expect(await w.send('EXPN staff')).toBe('250-2.1.5 Joko Priyono <jpri@dadali.com>\n250 2.1.5 Siswa 1 <siswa1@dadali.com>');
  expect(await w.send('EXPN jpri')).toMatch(/^550 5\.1\.1 jpri is a user, not a mailing list/);
  expect(await w.send('EXPN nolist')).toMatch(/^550 /);
  expect(await w.send('VERB')).toMatch(/^250 2\.0\.0 Verbose mode: /);
  expect(await w.send('NOOP')).toMatch(/^250 /);
  expect(await w.send('MAIL FROM:<mbrain@garudayaksa.com>')).toMatch(/^250 /);
  expect(await w.send('RSET')).toMatch(/^250 /);
  expect(await w.send('RCPT TO:<jpri@dadali.com>')).toMatch(/^503 /);
  expect(await w.send('BLAH')).toMatch(/^500 /);
  expect(await w.send('QUIT')).toMatch(/^221 /);
  w.close();
});

test('mail typed by hand is appended to the mailbox file, with a Received header naming the peer', async () => {
  const w = await Wire.connect(port('garudayaksa.com'));
  await w.reply();
  expect(await w.send('HELO pc-siswa')).toMatch(/^250 /);
  expect(await w.send('MAIL FROM:<jpri@dadali.com>')).toMatch(/^250 /);
  expect(await w.send('RCPT TO:<mbrain@garudayaksa.com>')).toMatch(/^250 /);
  expect(await w.send('DATA')).toMatch(/^354 /);
  const queued = await w.send('Subject: Makan siang\r\n\r\nMarsel, bisakah kita makan siang hari Senin? Joko\r\n..titik di awal baris\r\n.');
  expect(queued).toMatch(/^250 2\.\d\.0 Ok: queued as ([A-Z0-9]+)$/);
  const id = /queued as (\S+)/.exec(queued)![1];
  expect(await w.send('QUIT')).toMatch(/^221 /);
  const store = lab.domains['garudayaksa.com'].store;
  const text = await eventually('delivery to mbrain', async () => {
    const snap = await store.snapshot('mbrain', 'INBOX');
    return snap.messages.length ? (await store.read('mbrain', 'INBOX', snap.messages[0].uid))!.toString() : null;
  });
  expect(text).toMatch(new RegExp(`^Return-Path: <jpri@dadali.com>\\r\\nDelivered-To: mbrain@garudayaksa.com\\r\\nReceived: from pc-siswa \\((unknown|localhost) \\[127\\.0\\.0\\.1\\]\\)\\r\\n\\tby mail\\.garudayaksa\\.com \\(mail-lab\\) with SMTP id ${id}\\r\\n\\tfor <mbrain@garudayaksa.com>; `));
  expect(text).toMatch(/\r\nDate: .*\r\nMessage-ID: <.*@mail\.garudayaksa\.com>\r\nSubject: Makan siang\r\n\r\nMarsel, bisakah kita makan siang hari Senin\? Joko\r\n\.titik di awal baris\r\n$/);
  const mbox = require('node:fs').readFileSync(store.mboxPath('mbrain', 'INBOX'), 'latin1') as string;
  expect(mbox).toMatch(/^From jpri@dadali\.com \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\n/);
  expect(mbox).toContain('\nSubject: Makan siang\n\nMarsel, bisakah kita makan siang hari Senin? Joko\n.titik di awal baris\n\n');
});

test('recipients: unknown local user 550 5.1.1, alias expands, no open relay (554 5.7.1), too many recipients 452', async () => {
  const w = await Wire.connect(port('dadali.com'));
  await w.reply();
  await w.send('EHLO pc');
  await w.send('MAIL FROM:<siapa@luar.example>');
  expect(await w.send('RCPT TO:<tidakada@dadali.com>')).toMatch(/^550 5\.1\.1 /);
  expect(await w.send('RCPT TO:<mbrain@garudayaksa.com>')).toMatch(/^554 5\.7\.1 .*Relay access denied/);
  expect(await w.send('RCPT TO:<relay@example.org>')).toMatch(/^554 5\.7\.1 /);
  expect(await w.send('RCPT TO:<staff@dadali.com>')).toMatch(/^250 /);
  expect(await w.send('DATA')).toMatch(/^354 /);
  expect(await w.send('Subject: untuk staff\r\n\r\nhalo\r\n.')).toMatch(/^250 /);
  w.close();
  const store = lab.domains['dadali.com'].store;
  for (const user of ['jpri', 'siswa1']) {
    await eventually(`alias delivery to ${user}`, async () => (await store.snapshot(user, 'INBOX')).messages.length === 1);
  }
});

test('bad input: SIZE over the limit 552, bare LF and NUL refused with nothing stored, smuggling does not end DATA', async () => {
  const w = await Wire.connect(port('dadali.com'));
  await w.reply();
  await w.send('EHLO pc');
  expect(await w.send('MAIL FROM:<a@garudayaksa.com> SIZE=999999999')).toMatch(/^552 /);
  const store = lab.domains['dadali.com'].store;
  const before = (await store.snapshot('siswa2', 'INBOX')).messages.length;
  for (const body of ['Subject: lf\r\n\r\nbaris\nbare LF\r\n', 'Subject: nul\r\n\r\nada \0 NUL\r\n']) {
    expect(await w.send('MAIL FROM:<a@garudayaksa.com>')).toMatch(/^250 /);
    expect(await w.send('RCPT TO:<siswa2@dadali.com>')).toMatch(/^250 /);
    expect(await w.send('DATA')).toMatch(/^354 /);
    w.write(body);
    expect(await w.send('.')).toMatch(/^554 5\.6\.0 /);
  }
  // SMTP smuggling: <LF>.<CR><LF> must not end DATA, so the "MAIL FROM" after it is message text.
  expect(await w.send('MAIL FROM:<a@garudayaksa.com>')).toMatch(/^250 /);
  expect(await w.send('RCPT TO:<siswa2@dadali.com>')).toMatch(/^250 /);
  expect(await w.send('DATA')).toMatch(/^354 /);
  w.write('Subject: smuggle\r\n\r\nsatu\n.\r\nMAIL FROM:<evil@x>\r\nRCPT TO:<siswa2@dadali.com>\r\nDATA\r\n');
  expect(await w.send('.')).toMatch(/^554 5\.6\.0 .*bare LF/);
  expect(await w.send('NOOP')).toMatch(/^250 /);
  w.close();
  await new Promise((r) => setTimeout(r, 200));
  expect((await store.snapshot('siswa2', 'INBOX')).messages.length).toBe(before);
});

test('a mail loop is stopped at the hop limit (554 5.4.6)', async () => {
  const w = await Wire.connect(port('dadali.com'));
  await w.reply();
  await w.send('EHLO pc');
  await w.send('MAIL FROM:<a@garudayaksa.com>');
  await w.send('RCPT TO:<siswa3@dadali.com>');
  await w.send('DATA');
  w.write(Array.from({ length: lab.config.limits.maxHops }, (_, i) => `Received: from hop${i} by hop${i + 1}; Thu, 26 Nov 2026 07:00:00 +0000\r\n`).join(''));
  expect(await w.send('Subject: loop\r\n\r\nloop\r\n.')).toMatch(/^554 5\.4\.6 Too many hops/);
  w.close();
});

test('message over the size limit during DATA: 552, nothing stored', async () => {
  const small = await startTestLab({ limits: { maxMessageSize: 2048 } });
  try {
    const d = small.config.domains.find((x) => x.name === 'dadali.com')!;
    const w = await Wire.connect(d.ports.smtp);
    await w.reply();
    await w.send('EHLO pc');
    await w.send('MAIL FROM:<a@garudayaksa.com>');
    await w.send('RCPT TO:<jpri@dadali.com>');
    await w.send('DATA');
    w.write('Subject: besar\r\n\r\n' + 'x'.repeat(70).concat('\r\n').repeat(60));
    expect(await w.send('.')).toMatch(/^552 /);
    expect(await w.send('NOOP')).toMatch(/^250 /);
    w.close();
    expect((await small.domains['dadali.com'].store.snapshot('jpri', 'INBOX')).messages).toHaveLength(0);
  } finally {
    await small.close();
  }
});
