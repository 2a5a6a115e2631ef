/** Cross-domain delivery by MX lookup, the retry queue, notices and restarts, on a whole lab in-process. */
import nodemailer from 'nodemailer';
import { startTestLab, eventually, Wire, type TestLab } from '../helpers/test-lab';

const port = (lab: TestLab, d: string, kind: 'smtp' | 'submission') => lab.config.domains.find((x) => x.name === d)!.ports[kind];

async function submit(lab: TestLab, from: string, to: string[], subject: string, text = 'Halo!'): Promise<string> {
  const domain = from.split('@')[1];
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: port(lab, domain, 'submission'),
    secure: false,
    ignoreTLS: true,
    auth: { user: from, pass: 'rahasia123' },
  });
  const info = await transport.sendMail({ from, to, subject, text });
  transport.close();
  return /queued as (\S+)/.exec(info.response)![1];
}

async function inbox(lab: TestLab, domain: string, user: string): Promise<string[]> {
  const store = lab.domains[domain].store;
  const snap = await store.snapshot(user, 'INBOX');
  return Promise.all(snap.messages.map(async (m) => (await store.read(user, 'INBOX', m.uid))!.toString()));
}

const withSubject = (messages: string[], s: string) => messages.filter((m) => m.includes(`\r\nSubject: ${s}\r\n`));

describe('cross-domain delivery', () => {
  let lab: TestLab;
  beforeAll(async () => {
    lab = await startTestLab();
  });
  afterAll(() => lab.close());

  test('mbrain@garudayaksa.com to jpri@dadali.com and back, with a Received trail of both hops', async () => {
    const id = await submit(lab, 'mbrain@garudayaksa.com', ['jpri@dadali.com'], 'Makan siang');
    const [msg] = await eventually('delivery at dadali', async () => withSubject(await inbox(lab, 'dadali.com', 'jpri'), 'Makan siang')[0] && withSubject(await inbox(lab, 'dadali.com', 'jpri'), 'Makan siang'));
    const received = msg.match(/^Received: [^]*?(?=\r\n\S)/gm)!;
    expect(received).toHaveLength(2);
    expect(received[0]).toMatch(/^Received: from mail\.garudayaksa\.com \(localhost \[127\.0\.0\.1\]\)\r\n\tby mail\.dadali\.com \(mail-lab\) with ESMTP id \w+\r\n\tfor <jpri@dadali\.com>/);
    expect(received[1]).toMatch(new RegExp(`^Received: from \\S+ \\(localhost \\[127\\.0\\.0\\.1\\]\\)\\r\\n\\tby mail\\.garudayaksa\\.com \\(mail-lab\\) with ESMTPA id ${id}`));
    const sent = lab.domains['garudayaksa.com'].queue.finished(id)!;
    expect(sent.history[0]).toMatchObject({ result: 'delivered', mx: [{ exchange: 'mail.dadali.com', priority: 10 }] });
    expect(sent.history[0].host).toMatch(/^mail\.dadali\.com\[127\.0\.0\.1\]:\d+$/);
    const queries = lab.dns.queries().map((q) => `${q.type} ${q.name.toLowerCase()} ${q.answers.join(',')}`);
    expect(queries).toContain('MX dadali.com 10 mail.dadali.com');

    await submit(lab, 'jpri@dadali.com', ['mbrain@garudayaksa.com'], 'Re: Makan siang');
    await eventually('reply at garudayaksa', async () => withSubject(await inbox(lab, 'garudayaksa.com', 'mbrain'), 'Re: Makan siang').length === 1);
  });

  test('submission needs a login and a sender of the own domain', async () => {
    const w = await Wire.connect(port(lab, 'garudayaksa.com', 'submission'));
    await w.reply();
    expect(await w.send('EHLO pc')).toMatch(/AUTH PLAIN LOGIN/);
    expect(await w.send('MAIL FROM:<mbrain@garudayaksa.com>')).toMatch(/^530 /);
    expect(await w.send('AUTH PLAIN ' + Buffer.from('\0mbrain\0salah').toString('base64'))).toMatch(/^535 5\.7\.8/);
    expect(await w.send('AUTH PLAIN ' + Buffer.from('\0mbrain\0rahasia123').toString('base64'))).toMatch(/^235 /);
    expect(await w.send('MAIL FROM:<jpri@dadali.com>')).toMatch(/^553 5\.7\.1/);
    w.close();
  });

  test('a 5xx from the other domain bounces at once: the sender gets an RFC 3464 report', async () => {
    const id = await submit(lab, 'mbrain@garudayaksa.com', ['tidakada@dadali.com'], 'Salah alamat');
    const [dsn] = await eventually('bounce notice', async () => {
      const m = withSubject(await inbox(lab, 'garudayaksa.com', 'mbrain'), 'Undelivered Mail Returned to Sender');
      return m.length ? m : null;
    });
    expect(dsn).toMatch(/^Return-Path: <>\r\n/);
    expect(dsn).toContain('Content-Type: multipart/report; report-type=delivery-status;');
    expect(dsn).toContain('Content-Type: message/delivery-status');
    expect(dsn).toContain('Final-Recipient: rfc822; tidakada@dadali.com\r\nAction: failed\r\nStatus: 5.1.1\r\nRemote-MTA: dns; mail.dadali.com');
    expect(dsn).toContain(`X-Queue-ID: ${id}`);
    expect(dsn).toContain('Subject: Salah alamat');
  });

  test('a domain outside the lab is bounced, never sent out (the lab DNS refuses it)', async () => {
    await submit(lab, 'siswa1@garudayaksa.com', ['someone@example.org'], 'Keluar lab');
    const [dsn] = await eventually('bounce notice', async () => {
      const m = withSubject(await inbox(lab, 'garudayaksa.com', 'siswa1'), 'Undelivered Mail Returned to Sender');
      return m.length ? m : null;
    });
    expect(dsn).toMatch(/Final-Recipient: rfc822; someone@example\.org\r\nAction: failed\r\nStatus: 5\.1\.2/);
  });
});

describe('the queue', () => {
  test('break the link: the message waits with a next attempt; heal and flush: delivered exactly once', async () => {
    const lab = await startTestLab({ timing: { retryInterval: '1h' } });
    try {
      const q = lab.domains['garudayaksa.com'].queue;
      await lab.cut('garudayaksa.com', 'dadali.com');
      const id = await submit(lab, 'mbrain@garudayaksa.com', ['jpri@dadali.com'], 'Antre');
      const listed = await eventually('deferred', () => q.list().find((e) => e.id === id && e.attempts === 1));
      expect(listed.recipients[0]).toMatchObject({ address: 'jpri@dadali.com', status: 'pending', attempts: 1 });
      expect(listed.lastError).toMatch(/timed out/);
      expect(Date.parse(listed.nextAttempt!) - Date.now()).toBeGreaterThan(59 * 60_000);
      // Local mail still flows while the link is down.
      await submit(lab, 'mbrain@garudayaksa.com', ['siswa2@garudayaksa.com'], 'Lokal');
      await eventually('local delivery', async () => withSubject(await inbox(lab, 'garudayaksa.com', 'siswa2'), 'Lokal').length === 1);
      await lab.restore('garudayaksa.com', 'dadali.com');
      expect(q.flush()).toContain(id);
      await eventually('delivered after heal', async () => withSubject(await inbox(lab, 'dadali.com', 'jpri'), 'Antre').length === 1);
      await eventually('queue empty', () => q.list().length === 0);
      q.flush();
      await new Promise((r) => setTimeout(r, 300));
      expect(withSubject(await inbox(lab, 'dadali.com', 'jpri'), 'Antre')).toHaveLength(1);
    } finally {
      await lab.close();
    }
  });

  test('retry on schedule, a delay notice after warnAfter, returned after returnAfter', async () => {
    const lab = await startTestLab({ timing: { retryInterval: '300ms', warnAfter: '1s', returnAfter: '2500ms' } });
    try {
      const q = lab.domains['garudayaksa.com'].queue;
      await lab.cut('garudayaksa.com', 'dadali.com');
      const id = await submit(lab, 'mbrain@garudayaksa.com', ['jpri@dadali.com'], 'Tertunda');
      const delay = await eventually('delay notice', async () => withSubject(await inbox(lab, 'garudayaksa.com', 'mbrain'), 'Delayed Mail (still being retried)')[0], 5000);
      expect(delay).toContain('Action: delayed');
      expect(delay).toContain('Will-Retry-Until:');
      const attempts = q.list().find((e) => e.id === id)!.attempts;
      expect(attempts).toBeGreaterThanOrEqual(2);
      const returned = await eventually('returned notice', async () => withSubject(await inbox(lab, 'garudayaksa.com', 'mbrain'), 'Undelivered Mail Returned to Sender')[0], 5000);
      expect(returned).toMatch(/Action: failed\r\nStatus: 4\.4\.7/);
      expect(q.list().find((e) => e.id === id)).toBeUndefined();
      expect(withSubject(await inbox(lab, 'dadali.com', 'jpri'), 'Tertunda')).toHaveLength(0);
    } finally {
      await lab.close();
    }
  });

  test('a queued message survives a restart of the sending server and is delivered once', async () => {
    const lab = await startTestLab({ timing: { retryInterval: '1h' } });
    try {
      await lab.cut('garudayaksa.com', 'dadali.com');
      const id = await submit(lab, 'mbrain@garudayaksa.com', ['jpri@dadali.com', 'siswa3@dadali.com'], 'Setelah restart');
      await eventually('deferred', () => lab.domains['garudayaksa.com'].queue.list().some((e) => e.id === id && e.attempts === 1));
      await lab.stopDomain('garudayaksa.com');
      const again = await lab.startDomain('garudayaksa.com');
      expect(again.queue.list().map((e) => e.id)).toEqual([id]);
      again.queue.flush();
      for (const u of ['jpri', 'siswa3']) await eventually(`delivery to ${u}`, async () => withSubject(await inbox(lab, 'dadali.com', u), 'Setelah restart').length === 1);
      await eventually('queue empty', () => again.queue.list().length === 0);
    } finally {
      await lab.close();
    }
  });
});
