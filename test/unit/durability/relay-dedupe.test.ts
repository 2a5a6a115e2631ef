/**
 * The receiving side's duplicate check (queue/dedupe.ts): a relayed copy
 * that comes again (its sender died between our 250 and recording it) is
 * answered 250 and delivered once per recipient; hand-typed messages and
 * different messages are never merged. Through a real SMTP session on
 * port 25 of an in-process dadali.com, the queue's own answer
 * (admitRelay), and the index on its own.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { relayIdentity, SeenIndex, splitRecipients } from '../../../services/mail-domain/src/queue/dedupe';
import { eventually, startTestLab, Wire, type TestLab } from '../helpers/test-lab';

const crlf = (text: string) => text.replace(/\r?\n/g, '\r\n');

/** A message as mail.garudayaksa.com relays it: its Received with its queue id on top. */
const relayed = (queueId: string, subject: string, body = 'Halo Joko.', messageId = `<${queueId}@mail.garudayaksa.com>`) =>
  crlf(
    `Received: from [127.0.0.1] (localhost [127.0.0.1])\n\tby mail.garudayaksa.com (mail-lab) with ESMTPA id ${queueId}; Thu, 26 Nov 2026 09:00:00 +0000\n` +
      `From: mbrain@garudayaksa.com\nTo: jpri@dadali.com\nSubject: ${subject}\nMessage-ID: ${messageId}\n\n${body}\n`,
  );

describe('relayIdentity: which data is a relayed copy, and its identity', () => {
  it('takes the top Received header id; the same octets give the same key', () => {
    const a = relayIdentity(Buffer.from(relayed('19B1A2C3D4E5F6', 'Rapat')));
    expect(a).toMatchObject({ hopId: '19B1A2C3D4E5F6', messageId: '<19B1A2C3D4E5F6@mail.garudayaksa.com>' });
    expect(relayIdentity(Buffer.from(relayed('19B1A2C3D4E5F6', 'Rapat')))!.key).toBe(a!.key);
  });
  it('is null for a hand-typed message (no Received on top, or one without an id)', () => {
    expect(relayIdentity(Buffer.from(crlf('From: a@b\nSubject: x\n\nhalo\n')))).toBeNull();
    expect(relayIdentity(Buffer.from(crlf('Subject: x\nReceived: from a by b id X1; Thu, 26 Nov 2026 09:00:00 +0000\n\nhalo\n')))).toBeNull();
    expect(relayIdentity(Buffer.from(crlf('Received: from a (id-less comment id Y) by b; Thu, 26 Nov 2026 09:00:00 +0000\n\nhalo\n')))).toBeNull();
  });
  it('differs for another body with the same Message-ID, and for another hop id', () => {
    const a = relayIdentity(Buffer.from(relayed('Q1', 'Rapat', 'satu', '<same@x>')))!;
    expect(relayIdentity(Buffer.from(relayed('Q1', 'Rapat', 'dua', '<same@x>')))!.key).not.toBe(a.key);
    expect(relayIdentity(Buffer.from(relayed('Q2', 'Rapat', 'satu', '<same@x>')))!.key).not.toBe(a.key);
  });
  it('splits recipients into new and already accepted', () => {
    const list = [{ address: 'jpri@dadali.com' }, { address: 'siswa1@dadali.com' }];
    expect(splitRecipients(list, { id: 'A', recipients: new Set(['jpri@dadali.com']) })).toEqual({ fresh: [list[1]], already: [list[0]] });
    expect(splitRecipients(list, undefined)).toEqual({ fresh: list, already: [] });
  });
});

describe('SeenIndex: durable and bounded', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'mail-lab-seen-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('survives a restart, merges the spool records, forgets after max(returnAfter, 1 day)', async () => {
    let clock = new Date('2026-11-26T09:00:00Z');
    const file = join(dir, 'relayed.log');
    const a = new SeenIndex(file, () => 10 * 60_000, () => clock);
    await a.init();
    await a.record({ key: 'k1', id: 'ID1', recipients: ['JPRI@dadali.com'], time: clock.toISOString() });
    // A crash cut the last line: it was never acknowledged and is skipped.
    appendFileSync(file, '{"key":"k2","id":"ID');
    const b = new SeenIndex(file, () => 10 * 60_000, () => clock);
    await b.init([{ key: 'k3', id: 'ID3', recipients: ['siswa1@dadali.com'], time: clock.toISOString() }]);
    expect(b.lookup('k1')).toEqual({ id: 'ID1', recipients: new Set(['jpri@dadali.com']) });
    expect(b.lookup('k2')).toBeUndefined();
    expect(b.lookup('k3')?.id).toBe('ID3');
    // returnAfter is 10 minutes here; a record is still kept for a day.
    clock = new Date('2026-11-27T08:59:00Z');
    expect(b.lookup('k1')?.id).toBe('ID1');
    clock = new Date('2026-11-27T09:01:00Z');
    expect(b.lookup('k1')).toBeUndefined();
    const c = new SeenIndex(file, () => 10 * 60_000, () => clock);
    await c.init();
    expect(c.size).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe('');
  });

  it('compacts its log while running once records expire', async () => {
    let clock = new Date('2026-11-26T09:00:00Z');
    const file = join(dir, 'relayed.log');
    const index = new SeenIndex(file, () => 60_000, () => clock);
    await index.init();
    for (let i = 0; i < 1001; i++) await index.record({ key: `k${i}`, id: `ID${i}`, recipients: ['jpri@dadali.com'], time: clock.toISOString() });
    expect(readFileSync(file, 'utf8').split('\n').length - 1).toBe(1001);
    clock = new Date('2026-11-28T09:00:00Z');
    await index.record({ key: 'new', id: 'NEW', recipients: ['jpri@dadali.com'], time: clock.toISOString() });
    expect(readFileSync(file, 'utf8')).toBe(JSON.stringify({ key: 'new', id: 'NEW', recipients: ['jpri@dadali.com'], time: clock.toISOString() }) + '\n');
    expect(index.size).toBe(1);
  });
});

describe('through SMTP on port 25 of dadali.com', () => {
  let lab: TestLab;
  beforeAll(async () => {
    lab = await startTestLab();
  });
  afterAll(async () => {
    await lab?.close();
  });

  async function send(recipients: string[], data: string): Promise<string> {
    const w = await Wire.connect(lab.domains['dadali.com'].ports.smtp);
    try {
      expect(await w.reply()).toMatch(/^220 /);
      expect(await w.send('EHLO mail.garudayaksa.com')).toMatch(/^250/);
      expect(await w.send('MAIL FROM:<mbrain@garudayaksa.com>')).toMatch(/^250/);
      for (const r of recipients) expect(await w.send(`RCPT TO:<${r}>`)).toMatch(/^250/);
      expect(await w.send('DATA')).toMatch(/^354/);
      w.write(data + '.\r\n');
      const reply = await w.reply();
      await w.send('QUIT');
      return reply;
    } finally {
      w.close();
    }
  }

  /** How many messages with this subject the user's INBOX holds, once the queue is idle. */
  async function copies(user: string, subject: string): Promise<number> {
    const d = lab.domains['dadali.com'];
    await eventually('the queue of dadali.com is empty', () => d.queue.list().length === 0);
    const store = d.store;
    const snap = await store.snapshot(user, 'INBOX');
    const heads = await store.readMany(user, 'INBOX', snap.messages.map((m) => m.uid), 'header');
    return heads.filter((h) => h!.toString('latin1').includes(`\r\nSubject: ${subject}\r\n`)).length;
  }

  it('a relayed copy sent again is answered 250 and delivered once', async () => {
    const data = relayed('19B1AAAA000001', 'Sekali saja');
    const first = await send(['jpri@dadali.com'], data);
    const id = /queued as (\S+)/.exec(first)?.[1];
    expect(id).toBeTruthy();
    expect(await copies('jpri', 'Sekali saja')).toBe(1);
    const again = await send(['jpri@dadali.com'], data);
    expect(again).toBe(`250 2.6.0 Ok: duplicate of ${id} (accepted before; not queued again)`);
    expect(await copies('jpri', 'Sekali saja')).toBe(1);
    expect(lab.lines.some((l) => l.includes(`duplicate of ${id}`))).toBe(true);
  });

  it('partial: a recipient the first copy did not have gets it; the one that had it does not get it twice', async () => {
    const data = relayed('19B1AAAA000002', 'Sebagian');
    expect(await send(['jpri@dadali.com'], data)).toMatch(/^250 .*queued as/);
    expect(await send(['jpri@dadali.com', 'siswa1@dadali.com'], data)).toMatch(/^250 .*queued as/);
    expect(await copies('jpri', 'Sebagian')).toBe(1);
    expect(await copies('siswa1', 'Sebagian')).toBe(1);
    expect(await send(['siswa1@dadali.com', 'jpri@dadali.com'], data)).toMatch(/^250 2\.6\.0 Ok: duplicate of /);
    expect(await copies('siswa1', 'Sebagian')).toBe(1);
  });

  it('a hand-typed message sent twice is delivered twice', async () => {
    const data = crlf('From: mbrain@garudayaksa.com\nTo: jpri@dadali.com\nSubject: Ketik dua kali\nMessage-ID: <ketik@garudayaksa.com>\n\nHalo.\n');
    expect(await send(['jpri@dadali.com'], data)).toMatch(/queued as/);
    expect(await send(['jpri@dadali.com'], data)).toMatch(/queued as/);
    expect(await copies('jpri', 'Ketik dua kali')).toBe(2);
  });

  it('another message with the same Message-ID (and hop id) is delivered', async () => {
    expect(await send(['jpri@dadali.com'], relayed('19B1AAAA000003', 'Sama ID', 'versi satu', '<sama@garudayaksa.com>'))).toMatch(/queued as/);
    expect(await send(['jpri@dadali.com'], relayed('19B1AAAA000003', 'Sama ID', 'versi dua', '<sama@garudayaksa.com>'))).toMatch(/queued as/);
    expect(await copies('jpri', 'Sama ID')).toBe(2);
  });

  it('the queue answers itself: admitRelay names the earlier copy once enqueue has recorded it', async () => {
    const q = lab.domains['dadali.com'].queue;
    const data = Buffer.from(relayed('19B1AAAA000005', 'Antrian memutuskan'));
    const jpri = { address: 'jpri@dadali.com', local: true };
    const siswa1 = { address: 'siswa1@dadali.com', local: true };
    const first = q.admitRelay(data, [jpri]);
    expect(first).toEqual({ fresh: [jpri], already: [], relay: expect.objectContaining({ hopId: '19B1AAAA000005', messageId: '<19B1AAAA000005@mail.garudayaksa.com>' }) });
    const id = await q.enqueue({ from: 'mbrain@garudayaksa.com', recipients: first.fresh, message: data, relay: first.relay });
    expect(q.admitRelay(data, [siswa1, jpri])).toEqual({ fresh: [siswa1], already: [jpri], duplicateOf: id, relay: first.relay });
    // Data that is no relayed copy (no Received with an id on top) is never a duplicate.
    const typed = Buffer.from(crlf('From: mbrain@garudayaksa.com\nSubject: x\n\nHalo.\n'));
    expect(q.admitRelay(typed, [jpri])).toEqual({ fresh: [jpri], already: [] });
    expect(await copies('jpri', 'Antrian memutuskan')).toBe(1);
  });

  it('the record survives a restart of the receiving server', async () => {
    const data = relayed('19B1AAAA000004', 'Setelah restart');
    const id = /queued as (\S+)/.exec(await send(['jpri@dadali.com'], data))?.[1];
    expect(await copies('jpri', 'Setelah restart')).toBe(1);
    await lab.stopDomain('dadali.com');
    await lab.startDomain('dadali.com');
    expect(await send(['jpri@dadali.com'], data)).toBe(`250 2.6.0 Ok: duplicate of ${id} (accepted before; not queued again)`);
    expect(await copies('jpri', 'Setelah restart')).toBe(1);
  });
});
