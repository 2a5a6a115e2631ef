/** `mail-lab trace`: a message's whole path, from the journals of both domains. */
import nodemailer from 'nodemailer';
import { labTarget } from '../../../scripts/lab-target';
import { collectTrace, formatTrace } from '../../../scripts/trace';
import { startTestLab, eventually, Wire, type TestLab } from '../helpers/test-lab';

let lab: TestLab;
beforeAll(async () => {
  lab = await startTestLab();
});
afterAll(() => lab.close());

async function pop3Retr(port: number, user: string): Promise<void> {
  const w = await Wire.connect(port);
  const line = async () => {
    const deadline = Date.now() + 5000;
    while (!/\r\n/.test((w as unknown as { buffer: string }).buffer)) {
      if (Date.now() > deadline) throw new Error('no POP3 reply');
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await line();
  for (const cmd of [`USER ${user}`, 'PASS rahasia123', 'RETR 1', 'QUIT']) {
    w.write(cmd + '\r\n');
    await new Promise((r) => setTimeout(r, 100));
  }
  w.close();
}

test('submission, DNS answers, both SMTP hops with transcripts, the mailbox, and the POP3 read', async () => {
  const g = lab.config.domains.find((d) => d.name === 'garudayaksa.com')!;
  const d = lab.config.domains.find((x) => x.name === 'dadali.com')!;
  const t = nodemailer.createTransport({ host: '127.0.0.1', port: g.ports.submission, secure: false, ignoreTLS: true, auth: { user: 'mbrain@garudayaksa.com', pass: 'rahasia123' } });
  const info = await t.sendMail({ from: 'mbrain@garudayaksa.com', to: 'jpri@dadali.com', subject: 'Jejak pesan', text: 'lacak aku', messageId: '<jejak-1@garudayaksa.com>' });
  t.close();
  const firstId = /queued as (\S+)/.exec(info.response)![1];
  await eventually('delivered', async () => (await lab.domains['dadali.com'].store.snapshot('jpri', 'INBOX')).messages.length === 1);
  await pop3Retr(d.ports.pop3, 'jpri@dadali.com');
  const target = lab.target();
  const items = await eventually('trace complete', async () => {
    const x = await collectTrace(target, '<jejak-1@garudayaksa.com>');
    return x.some((i) => i.kind === 'retrieved') && x.filter((i) => i.kind === 'queue').length === 2 ? x : null;
  });
  expect(items.map((i) => `${i.domain} ${i.kind}`)).toEqual([
    'garudayaksa.com smtp-in',
    'garudayaksa.com queue',
    'dadali.com smtp-in',
    'dadali.com queue',
    'dadali.com retrieved',
  ]);
  const text = formatTrace('<jejak-1@garudayaksa.com>', items).join('\n');
  expect(text).toContain('trace of <jejak-1@garudayaksa.com> "Jejak pesan"');
  expect(text).toMatch(new RegExp(`garudayaksa\\.com +received over SMTP port 587 .*logged in as mbrain: queued as ${firstId}`));
  expect(text).toMatch(/C: AUTH PLAIN \/\* secured \*\//);
  expect(text).not.toContain('rahasia123');
  expect(text).toContain('DNS: MX answer 10 mail.dadali.com; connected to mail.dadali.com[127.0.0.1]');
  expect(text).toMatch(/C: RCPT TO:<jpri@dadali\.com>/);
  expect(text).toMatch(/dadali\.com +received over SMTP port 25 from mail\.garudayaksa\.com/);
  expect(text).toMatch(/attempt: delivered jpri@dadali\.com: delivered to mailbox jpri \(uid 1\)/);
  expect(text).toMatch(/dadali\.com +read by jpri over POP3 \(INBOX, uid 1\)/);
  expect(formatTrace('<nope@x>', await collectTrace(target, '<nope@x>'))[0]).toMatch(/^no trace of <nope@x>/);
});

test('a relayed message: the outbound transcript keeps its first 20 lines and says how many more there were', async () => {
  const g = lab.config.domains.find((d) => d.name === 'garudayaksa.com')!;
  const body = Array.from({ length: 100 }, (_, i) => `baris isi nomor ${i + 1}`).join('\n') + '\n';
  const t = nodemailer.createTransport({ host: '127.0.0.1', port: g.ports.submission, secure: false, ignoreTLS: true, auth: { user: 'mbrain@garudayaksa.com', pass: 'rahasia123' } });
  await t.sendMail({ from: 'mbrain@garudayaksa.com', to: 'siswa2@dadali.com', subject: 'Pesan panjang', text: body, messageId: '<panjang-1@garudayaksa.com>' });
  t.close();
  const target = lab.target();
  const items = await eventually('relayed', async () => {
    const x = await collectTrace(target, '<panjang-1@garudayaksa.com>');
    return x.filter((i) => i.kind === 'queue').length === 2 ? x : null;
  });
  const text = formatTrace('<panjang-1@garudayaksa.com>', items).join('\n');
  expect(text).toMatch(/C: Subject: Pesan panjang/);
  expect(text).toMatch(/C: \[\.\.\. \d+ more line\(s\) of the message \.\.\.\]/);
  expect(text).not.toContain('baris isi nomor 50');
  // The message itself arrived whole.
  const snap = await lab.domains['dadali.com'].store.snapshot('siswa2', 'INBOX');
  const raw = (await lab.domains['dadali.com'].store.read('siswa2', 'INBOX', snap.messages[snap.messages.length - 1].uid))!.toString();
  expect(raw).toContain('baris isi nomor 100');
});

test('two messages over one connection: each trace shows the opening and its own transaction, not the first 500 lines of the session', async () => {
  const d = lab.config.domains.find((x) => x.name === 'dadali.com')!;
  const w = await Wire.connect(d.ports.smtp);
  await w.reply();
  await w.send('EHLO mail.garudayaksa.com');
  const ids: string[] = [];
  for (const [i, from] of ['siswa1@garudayaksa.com', 'siswa2@garudayaksa.com'].entries()) {
    if (i) expect(await w.send('RSET')).toMatch(/^250/);
    await w.send(`MAIL FROM:<${from}>`);
    await w.send('RCPT TO:<jpri@dadali.com>');
    await w.send('DATA');
    const done = await w.send(`Subject: satu koneksi ${i}\r\nMessage-ID: <satu-koneksi-${i}@garudayaksa.com>\r\n\r\nisi ${i}\r\n.`);
    ids.push(/queued as (\S+)/.exec(done)![1]);
  }
  await w.send('QUIT');
  w.close();
  const target = lab.target();
  const inOf = async (n: number) => {
    const items = await eventually(`trace of message ${n}`, async () => (await collectTrace(target, `<satu-koneksi-${n}@garudayaksa.com>`)).find((x) => x.kind === 'smtp-in' && x.domain === 'dadali.com'));
    return (items as { transcript: string[] }).transcript;
  };
  const first = await inOf(0);
  const second = await inOf(1);
  for (const t of [first, second]) expect(t.slice(0, 2)).toEqual([expect.stringMatching(/^S: 220 /), 'C: EHLO mail.garudayaksa.com']);
  expect(first.join('\n')).toContain('C: MAIL FROM:<siswa1@garudayaksa.com>');
  expect(first.join('\n')).not.toContain('siswa2');
  expect(second.join('\n')).not.toContain('siswa1');
  expect(second).toEqual(expect.arrayContaining(['[... 1 earlier message transaction(s) on this connection left out ...]', 'C: RSET', 'C: MAIL FROM:<siswa2@garudayaksa.com>', `S: 250 2.6.0 Ok: queued as ${ids[1]}`]));
});
