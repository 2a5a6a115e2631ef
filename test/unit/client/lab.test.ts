/**
 * The client against a whole lab on loopback: mbrain@garudayaksa.com sends
 * random bytes to jpri@dadali.com as MIME and as uuencode, jpri reads them
 * over POP3 and IMAP and saves them byte-for-byte; IMAP folders, search and
 * move; POP3 delete; and the errors a student meets.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { eventually, freePort, startTestLab, type TestLab } from '../helpers/test-lab';
import { listMessages } from '../../../services/client/src/mailbox';
import { endpointFor } from '../../../services/client/src/endpoint';
import { client, hostEnv, idsBySubject, PASSWORD } from './harness';

jest.setTimeout(60_000);

let lab: TestLab;
let work: string;
const mimeFile = randomBytes(20_000);
const uuFile = randomBytes(5_001);
let sender: Record<string, string | undefined>;
let reader: Record<string, string | undefined>;

beforeAll(async () => {
  lab = await startTestLab();
  work = mkdtempSync(join(tmpdir(), 'mail-lab-client-'));
  writeFileSync(join(work, 'data.bin'), mimeFile);
  writeFileSync(join(work, 'blob.bin'), uuFile);
  sender = hostEnv(lab, 'garudayaksa.com');
  reader = hostEnv(lab, 'dadali.com');
});
afterAll(async () => {
  await lab?.close();
  rmSync(work, { recursive: true, force: true });
});

const saved = (dir: string, name: string) => readFileSync(join(work, dir, name));

describe('from garudayaksa.com to dadali.com and back out of the mailbox', () => {
  let pop3Ids: Record<string, number>;
  let imapIds: Record<string, number>;

  test('send: MIME attachment and uuencoded attachment, both queued', async () => {
    const mime = await client(
      ['send', '--from', 'mbrain@garudayaksa.com', '--name', 'Marsel', '--to', 'jpri@dadali.com', '--subject', 'MIME test', '--body', 'Lampiran MIME.', '--attach', join(work, 'data.bin')],
      sender,
    );
    expect(mime).toMatchObject({ code: 0, err: '' });
    expect(mime.out).toMatch(/^250 .*queued as \S+\n$/);
    // Bare names get MAIL_LAB_HOME_DOMAIN; the body comes from standard input.
    const uu = await client(
      ['send', '--from', 'mbrain', '--to', 'jpri@dadali.com', '--subject', 'UU test', '--body-file', '-', '--attach', join(work, 'blob.bin'), '--uuencode'],
      { ...sender, MAIL_LAB_HOME_DOMAIN: 'garudayaksa.com' },
      'Lampiran cara lama.\n',
    );
    expect(uu).toMatchObject({ code: 0, err: '' });
    expect(uu.out).toMatch(/^250 .*queued as/);
    const ep = endpointFor('pop3', 'jpri@dadali.com', {}, reader);
    await eventually('both messages in the mailbox of jpri', async () => (await listMessages({ protocol: 'pop3', endpoint: ep, folder: 'INBOX' })).length === 2, 20_000);
  });

  test('POP3: list, read, read --raw, save-attachments byte-for-byte', async () => {
    const list = await client(['list', '--user', 'jpri@dadali.com'], reader);
    expect(list.code).toBe(0);
    expect(list.out).toMatch(/^\s+#\s+Date \(UTC\)\s+From\s+Subject\s+Size\n/);
    expect(list.out).toMatch(/^\s+\d  \d{4}-\d\d-\d\d \d\d:\d\d  Marsel <mbrain@garudayaksa.com>   MIME test  /m);
    expect(list.out).toMatch(/^\s+\d  \d{4}-\d\d-\d\d \d\d:\d\d  mbrain@garudayaksa.com {12}UU test  /m);
    expect(list.out).toMatch(/jpri@dadali.com \(POP3\): 2 messages, \d+ octets\n$/);
    pop3Ids = idsBySubject(list.out);
    expect(Object.keys(pop3Ids).sort()).toEqual(['MIME test', 'UU test']);

    const read = await client(['read', '--user', 'jpri@dadali.com', String(pop3Ids['MIME test'])], reader);
    expect(read.code).toBe(0);
    expect(read.out).toMatch(/^From: Marsel <mbrain@garudayaksa.com>\nTo: jpri@dadali.com\nDate: .*\nSubject: MIME test\n/);
    expect(read.out).toContain('Attachment: data.bin (application/octet-stream, 20000 bytes, MIME base64)');
    expect(read.out).toMatch(/\n\nLampiran MIME.\n$/);

    const uuRead = await client(['read', '--user', 'jpri@dadali.com', String(pop3Ids['UU test'])], reader);
    expect(uuRead.out).toContain('Attachment: blob.bin (application/octet-stream, 5001 bytes, uuencode)');
    expect(uuRead.out).toContain('Lampiran cara lama.\n');
    expect(uuRead.out).toContain('[uuencoded file blob.bin, 5001 bytes: save it with save-attachments]');
    const raw = await client(['read', '--user', 'jpri@dadali.com', String(pop3Ids['UU test']), '--raw'], reader);
    expect(raw.out).toMatch(/\r\nbegin 644 blob.bin\r\nM/);
    expect(raw.out).toMatch(/^Return-Path: <mbrain@garudayaksa.com>|Received: /m);
    expect(raw.out).not.toContain('Content-Type: multipart');

    const a = await client(['save-attachments', '--user', 'jpri@dadali.com', String(pop3Ids['MIME test']), '--dir', join(work, 'pop3')], reader);
    expect(a).toMatchObject({ code: 0, out: `saved ${join(work, 'pop3', 'data.bin')} (20000 bytes, MIME base64)\n` });
    const b = await client(['save-attachments', '--user', 'jpri@dadali.com', String(pop3Ids['UU test']), '--dir', join(work, 'pop3')], reader);
    expect(b).toMatchObject({ code: 0, out: `saved ${join(work, 'pop3', 'blob.bin')} (5001 bytes, uuencode)\n` });
    expect(saved('pop3', 'data.bin').equals(mimeFile)).toBe(true);
    expect(saved('pop3', 'blob.bin').equals(uuFile)).toBe(true);
    // Saving again never overwrites.
    const again = await client(['save-attachments', '--user', 'jpri@dadali.com', String(pop3Ids['MIME test']), '--dir', join(work, 'pop3')], reader);
    expect(again.out).toContain(join(work, 'pop3', 'data-1.bin'));
  });

  test('IMAP: list, read, save-attachments byte-for-byte, through the lab DNS for mail.dadali.com', async () => {
    // No MAIL_LAB_SERVER: the default host mail.dadali.com, resolved by the lab DNS (127.0.0.1 in no-Docker mode).
    const viaDns = { ...reader, MAIL_LAB_SERVER: undefined, MAIL_LAB_DNS: `127.0.0.1:${lab.dns.port}` };
    const list = await client(['list', '--user', 'jpri@dadali.com', '--protocol', 'imap'], viaDns);
    expect(list.code).toBe(0);
    expect(list.out).toMatch(/^\s+UID\s+Date/);
    expect(list.out).toMatch(/jpri@dadali.com INBOX \(IMAP\): 2 messages/);
    imapIds = idsBySubject(list.out);
    expect(Object.keys(imapIds).sort()).toEqual(['MIME test', 'UU test']);

    const read = await client(['read', '--user', 'jpri@dadali.com', '--protocol', 'imap', String(imapIds['MIME test'])], viaDns);
    expect(read.out).toContain('Subject: MIME test\n');
    for (const subject of ['MIME test', 'UU test']) {
      const r = await client(['save-attachments', '--user', 'jpri@dadali.com', '--protocol', 'imap', String(imapIds[subject]), '--dir', join(work, 'imap')], viaDns);
      expect(r.code).toBe(0);
    }
    expect(saved('imap', 'data.bin').equals(mimeFile)).toBe(true);
    expect(saved('imap', 'blob.bin').equals(uuFile)).toBe(true);
    // The same bytes as POP3 gives.
    const popRaw = await client(['read', '--user', 'jpri@dadali.com', '--raw', String(pop3Ids['UU test'])], reader);
    const imapRaw = await client(['read', '--user', 'jpri@dadali.com', '--raw', '--protocol', 'imap', String(imapIds['UU test'])], reader);
    expect(imapRaw.bytes.equals(popRaw.bytes)).toBe(true);
  });

  test('IMAP: folders, server-side search, move', async () => {
    const folders = await client(['folders', '--user', 'jpri@dadali.com'], reader);
    expect(folders.code).toBe(0);
    expect(folders.out).toMatch(/^INBOX\s+2\s+0\s+\\Inbox$/m);
    expect(folders.out).toMatch(/^Trash\s+0\s+0\s+\\Trash$/m);

    const bySubject = await client(['search', '--user', 'jpri@dadali.com', '--subject', 'UU'], reader);
    expect(Object.keys(idsBySubject(bySubject.out))).toEqual(['UU test']);
    const byText = await client(['search', '--user', 'jpri@dadali.com', 'Lampiran MIME'], reader);
    expect(Object.keys(idsBySubject(byText.out))).toEqual(['MIME test']);
    const byFrom = await client(['search', '--user', 'jpri@dadali.com', '--from', 'mbrain'], reader);
    expect(Object.keys(idsBySubject(byFrom.out)).sort()).toEqual(['MIME test', 'UU test']);
    const none = await client(['search', '--user', 'jpri@dadali.com', '--from', 'nobody-here'], reader);
    expect(none.out).toBe('jpri@dadali.com INBOX (IMAP SEARCH): no messages\n');

    const move = await client(['move', '--user', 'jpri@dadali.com', String(imapIds['UU test']), 'Trash'], reader);
    expect(move).toMatchObject({ code: 0 });
    expect(move.out).toMatch(new RegExp(`^moved UID ${imapIds['UU test']} from INBOX to Trash`));
    const trash = await client(['list', '--user', 'jpri@dadali.com', '--protocol', 'imap', '--folder', 'Trash'], reader);
    expect(Object.keys(idsBySubject(trash.out))).toEqual(['UU test']);
    const noFolder = await client(['move', '--user', 'jpri@dadali.com', String(imapIds['MIME test']), 'Arsip'], reader);
    expect(noFolder).toMatchObject({ code: 1, err: 'error: jpri@dadali.com has no folder "Arsip"; folders: INBOX, Sent, Drafts, Trash\n' });
    // IMAP delete: \Deleted + EXPUNGE.
    const trashUid = Object.values(idsBySubject(trash.out))[0];
    const del = await client(['delete', '--user', 'jpri@dadali.com', '--protocol', 'imap', '--folder', 'Trash', String(trashUid)], reader);
    expect(del).toMatchObject({ code: 0, out: `message UID ${trashUid} flagged \\Deleted and expunged from Trash\n` });
  });

  test('POP3: delete (DELE + QUIT) and it is gone', async () => {
    const list = await client(['list', '--user', 'jpri@dadali.com'], reader);
    expect(Object.keys(idsBySubject(list.out))).toEqual(['MIME test']);
    const del = await client(['delete', '--user', 'jpri@dadali.com', '1'], reader);
    expect(del.code).toBe(0);
    expect(del.out).toMatch(/^message 1 marked with DELE and removed at QUIT \(\+OK /);
    const after = await client(['list', '--user', 'jpri@dadali.com'], reader);
    expect(after).toMatchObject({ code: 0, out: 'jpri@dadali.com (POP3): no messages\n' });
    const missing = await client(['read', '--user', 'jpri@dadali.com', '1'], reader);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/^error: no message 1 in the mailbox of jpri@dadali.com/);
  });
});

describe('errors: one sentence, exit status 1 (2 for usage)', () => {
  const wrong = () => ({ ...sender, MAIL_LAB_PASSWORD: 'salah' });
  const loginFailed = 'error: login failed for mbrain@garudayaksa.com: wrong user name or password\n';

  test('wrong password over POP3, IMAP and submission', async () => {
    for (const protocol of ['pop3', 'imap']) {
      expect(await client(['list', '--user', 'mbrain@garudayaksa.com', '--protocol', protocol], wrong())).toMatchObject({ code: 1, out: '', err: loginFailed });
    }
    const send = await client(['send', '--from', 'mbrain@garudayaksa.com', '--to', 'jpri@dadali.com', '--subject', 'x', '--body', 'x'], wrong());
    expect(send).toMatchObject({ code: 1, out: '', err: loginFailed });
  });

  test('recipients the server refuses', async () => {
    const all = await client(['send', '--from', 'mbrain@garudayaksa.com', '--to', 'nobody@garudayaksa.com', '--subject', 'x', '--body', 'x'], sender);
    expect(all.code).toBe(1);
    expect(all.err).toMatch(/^error: the server refused the recipients: nobody@garudayaksa.com: 55\d /);
    const some = await client(['send', '--from', 'mbrain@garudayaksa.com', '--to', 'nobody@garudayaksa.com,siswa2@garudayaksa.com', '--subject', 'x', '--body', 'x'], sender);
    expect(some.code).toBe(0);
    expect(some.out).toMatch(/^250 .*queued as/);
    expect(some.err).toMatch(/^refused by the server: nobody@garudayaksa.com \(55\d .*\)\n$/);
  });

  test('nothing listening, for every protocol', async () => {
    const port = await freePort(); // free a moment ago, so nobody listens there
    const expected = `error: nothing listens on 127.0.0.1:${port} (is the lab up?)\n`;
    for (const argv of [
      ['list', '--user', 'mbrain@garudayaksa.com'],
      ['list', '--user', 'mbrain@garudayaksa.com', '--protocol', 'imap'],
      // --no-outbox: fail as before instead of keeping it in the outbox (outbox.test.ts).
      ['send', '--from', 'mbrain@garudayaksa.com', '--to', 'jpri@dadali.com', '--subject', 'x', '--no-outbox'],
    ]) {
      expect(await client([...argv, '--port', String(port)], sender)).toMatchObject({ code: 1, err: expected });
    }
  });

  test('a host the lab DNS does not know', async () => {
    const env = { ...sender, MAIL_LAB_DNS: `127.0.0.1:${lab.dns.port}` };
    for (const server of ['mail.example', 'nosuch.dadali.com']) {
      const r = await client(['list', '--user', 'mbrain@garudayaksa.com', '--server', server], env);
      expect(r).toMatchObject({ code: 1, err: `error: cannot find host ${server}: not in the lab DNS\n` });
    }
  });

  test('a server that never answers: timeout', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      for (const protocol of ['pop3', 'imap']) {
        const r = await client(['list', '--user', 'mbrain@garudayaksa.com', '--protocol', protocol, '--port', String(port), '--timeout', '0.5'], sender);
        expect(r.code).toBe(1);
        expect(r.err).toBe(`error: timed out after 0.5s waiting for an answer from 127.0.0.1:${port}\n`);
      }
      const send = await client(['send', '--from', 'mbrain@garudayaksa.com', '--to', 'jpri@dadali.com', '--subject', 'x', '--port', String(port), '--timeout', '0.5', '--no-outbox'], sender);
      expect(send).toMatchObject({ code: 1, err: `error: timed out after 0.5s waiting for an answer from 127.0.0.1:${port}\n` });
    } finally {
      silent.close();
    }
  });

  test('usage: no password, bad address, bad number, unknown option, pop3 folder', async () => {
    const noPass = await client(['list', '--user', 'mbrain@garudayaksa.com'], { ...sender, MAIL_LAB_PASSWORD: undefined });
    expect(noPass).toMatchObject({ code: 2, err: 'error: no password for mbrain@garudayaksa.com: give it with --password or in the environment variable MAIL_LAB_PASSWORD\n' });
    expect((await client(['list', '--user', 'mbrain', '--password', PASSWORD], {})).code).toBe(2);
    expect((await client(['read', '--user', 'jpri@dadali.com', 'satu'], reader)).code).toBe(2);
    expect((await client(['list', '--user', 'jpri@dadali.com', '--nope'], reader)).code).toBe(2);
    expect((await client(['list', '--user', 'jpri@dadali.com', '--protocol', 'smtp'], reader)).code).toBe(2);
    expect((await client(['list', '--user', 'jpri@dadali.com', '--folder', 'Trash'], reader)).code).toBe(2);
    expect((await client(['send', '--from', 'mbrain@garudayaksa.com', '--to', 'jpri@dadali.com', '--subject', 'x', '--attach', '/nonexistent/file'], sender)).err).toBe(
      'error: cannot read the attachment /nonexistent/file: no such file\n',
    );
    expect((await client([], {})).code).toBe(2);
    expect((await client(['--help'], {})).code).toBe(0);
  });

  test('--verbose shows the conversation, without the password', async () => {
    const r = await client(['list', '--user', 'mbrain@garudayaksa.com', '--verbose'], sender);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/^S: \+OK /);
    expect(r.err).toContain('C: USER mbrain@garudayaksa.com\n');
    expect(r.err).toContain('C: PASS ********\n');
    expect(r.err).not.toContain(PASSWORD);
    const s = await client(['send', '--from', 'mbrain@garudayaksa.com', '--to', 'siswa1@garudayaksa.com', '--subject', 'v', '--body', 'v', '--verbose'], sender);
    expect(s.code).toBe(0);
    expect(s.err).toMatch(/^C: MAIL FROM:<mbrain@garudayaksa.com>/m);
    expect(s.err).toMatch(/^S: 250 .*queued as/m);
    expect(s.err).not.toContain(PASSWORD);
    expect(s.err).not.toContain(Buffer.from(`\u0000mbrain@garudayaksa.com\u0000${PASSWORD}`).toString('base64'));
    const i = await client(['folders', '--user', 'mbrain@garudayaksa.com', '--verbose'], sender);
    expect(i.err).toMatch(/^C: \S+ LIST/m);
    expect(i.err).not.toContain(PASSWORD);
  });
});
