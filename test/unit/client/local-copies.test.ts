/**
 * What the lesson says mail programs do on the student's own computer,
 * done by mail-lab-client against a whole lab on loopback: POP3 downloads
 * that leave the mail on the server (--keep, remembered by UIDL) or delete
 * it; an offline copy of IMAP folders read while the server is down; an
 * outbox that keeps what is written while the server is down and sends it,
 * oldest first, when it is back.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, startTestLab, type TestLab } from '../helpers/test-lab';
import { inbox, withSubject } from '../faults/helpers';
import { client, hostEnv, testLocalDir } from './harness';

jest.setTimeout(90_000);

let lab: TestLab;
let dadali: Record<string, string | undefined>;
let garuda: Record<string, string | undefined>;
const port = (domain: string, p: 'submission' | 'pop3' | 'imap') => lab.config.domains.find((d) => d.name === domain)!.ports[p];

beforeAll(async () => {
  lab = await startTestLab();
  dadali = hostEnv(lab, 'dadali.com');
  garuda = hostEnv(lab, 'garudayaksa.com');
});
afterAll(() => lab?.close());

async function sendOk(env: Record<string, string | undefined>, from: string, to: string, subject: string, body = 'Halo.') {
  const r = await client(['send', '--from', from, '--to', to, '--subject', subject, '--body', body], env);
  expect(r).toMatchObject({ code: 0, err: '' });
  expect(r.out).toMatch(/^250 .*queued as/m);
}

const arrived = (domain: string, user: string, subject: string, n = 1) =>
  eventually(`${n} × "${subject}" for ${user}@${domain}`, async () => withSubject(await inbox(lab, domain, user), subject).length === n);

describe('POP3: leave the mail on the server, or not', () => {
  const user = 'siswa1@dadali.com';
  const dir = () => join(testLocalDir(), user, 'pop3');

  test('--keep downloads each message once (UIDL) and leaves them; without it the server is emptied', async () => {
    await sendOk(dadali, 'jpri@dadali.com', user, 'Simpan satu');
    await sendOk(dadali, 'jpri@dadali.com', user, 'Simpan dua');
    await arrived('dadali.com', 'siswa1', 'Simpan dua');

    const first = await client(['download', '--user', user, '--keep'], dadali);
    expect(first).toMatchObject({ code: 0, err: '' });
    expect(first.out).toMatch(/^POP3 siswa1@dadali.com -> .*\/siswa1@dadali.com\/pop3$/m);
    expect(first.out).toMatch(/^ {2}RETR 1: saved as 1\.eml {2}Simpan satu {2}\(\d+ octets, UIDL \S+\)$/m);
    expect(first.out).toMatch(/^ {2}RETR 2: saved as 2\.eml {2}Simpan dua/m);
    expect(first.out).toContain('downloaded 2 new messages\nleft on the server (--keep): 2 messages; the next download fetches only new ones (by UIDL)\n');
    expect(readFileSync(join(dir(), '1.eml'), 'utf8')).toMatch(/\r\nSubject: Simpan satu\r\n/);
    expect(JSON.parse(readFileSync(join(dir(), 'uidl.json'), 'utf8')).messages).toHaveLength(2);
    expect((await inbox(lab, 'dadali.com', 'siswa1')).filter((m) => m.includes('\r\nSubject: Simpan '))).toHaveLength(2);

    await sendOk(dadali, 'jpri@dadali.com', user, 'Simpan tiga');
    await arrived('dadali.com', 'siswa1', 'Simpan tiga');
    const second = await client(['download', '--user', user, '--keep'], dadali);
    expect(second.out).toMatch(/^ {2}message 1: already downloaded as 1\.eml \(UIDL \S+\), not fetched again$/m);
    expect(second.out).toMatch(/^ {2}message 2: already downloaded as 2\.eml/m);
    expect(second.out).toMatch(/^ {2}RETR 3: saved as 3\.eml {2}Simpan tiga/m);
    expect(second.out).toContain('downloaded 1 new message, 2 already here\nleft on the server (--keep): 3 messages');

    // The default: what is here now is deleted from the server (DELE, then QUIT), nothing fetched twice.
    const last = await client(['download', '--user', user], dadali);
    expect(last).toMatchObject({ code: 0, err: '' });
    expect(last.out).toContain('downloaded 0 new messages, 3 already here\ndeleted from the server: 3 messages (DELE, removed at QUIT: +OK');
    expect(await inbox(lab, 'dadali.com', 'siswa1')).toEqual([]);
    expect(readdirSync(dir()).sort()).toEqual(['1.eml', '2.eml', '3.eml', 'uidl.json']);
    // UIDLs of messages no longer on the server are forgotten at the next download.
    await sendOk(dadali, 'jpri@dadali.com', user, 'Simpan empat');
    await arrived('dadali.com', 'siswa1', 'Simpan empat');
    const fourth = await client(['download', '--user', user], dadali);
    expect(fourth.out).toMatch(/^ {2}RETR 1: saved as 4\.eml {2}Simpan empat/m);
    expect(JSON.parse(readFileSync(join(dir(), 'uidl.json'), 'utf8')).messages).toHaveLength(1);
  });

  test('the downloads are read without any server', async () => {
    const offline = { ...dadali, MAIL_LAB_POP3_PORT: '1', MAIL_LAB_PASSWORD: undefined };
    const listed = await client(['list', '--offline', '--user', user], offline);
    expect(listed).toMatchObject({ code: 0, err: '' });
    expect(listed.out).toMatch(/^ +1 .*Simpan satu/m);
    expect(listed.out).toMatch(/^ +4 .*Simpan empat/m);
    expect(listed.out).toMatch(/siswa1@dadali.com \(downloaded over POP3, on this computer\): 4 messages, \d+ octets\n$/);
    const read = await client(['read', '--offline', '--user', user, '3'], offline);
    expect(read.out).toMatch(/^Subject: Simpan tiga$/m);
    expect((await client(['read', '--offline', '--user', user, '9'], offline)).err).toBe(
      'error: no downloaded message 9 of siswa1@dadali.com (see: mail-lab-client list --offline --user siswa1@dadali.com)\n',
    );
    expect((await client(['list', '--offline', '--user', 'siswa5@dadali.com'], offline)).err).toMatch(
      /^error: no local copy of siswa5@dadali.com \(POP3 downloads\) in .*; download it first: mail-lab-client download --user siswa5@dadali.com\n$/,
    );
  });
});

describe('IMAP: an offline copy of the folders', () => {
  const user = 'siswa2@dadali.com';
  const dadaliDown = (on: boolean) => lab.domains['dadali.com'].faults.setServerDown(on, true);

  test('sync copies every folder without marking anything read, and the copy is read while the server is down', async () => {
    await sendOk(dadali, 'jpri@dadali.com', user, 'Luring satu', 'Dibaca tanpa server.');
    await sendOk(dadali, 'jpri@dadali.com', user, 'Luring arsip');
    await arrived('dadali.com', 'siswa2', 'Luring arsip');
    const listed = await client(['list', '--user', user, '--protocol', 'imap'], dadali);
    const uidOf = (subject: string, out: string) => Number(new RegExp(`^ +(\\d+) .*${subject}`, 'm').exec(out)![1]);
    const s = await lab.domains['dadali.com'].store;
    await s.createFolder('siswa2', 'Arsip');
    expect((await client(['move', String(uidOf('Luring arsip', listed.out)), 'Arsip', '--user', user], dadali)).code).toBe(0);

    const synced = await client(['sync', '--user', user], dadali);
    expect(synced).toMatchObject({ code: 0, err: '' });
    expect(synced.out).toMatch(/^IMAP siswa2@dadali.com -> offline copy in .*\/siswa2@dadali.com\/imap$/m);
    expect(synced.out).toMatch(/^ {2}INBOX +1 new, 0 removed \(gone from the server\), 1 message in the copy$/m);
    expect(synced.out).toMatch(/^ {2}Arsip +1 new, 0 removed \(gone from the server\), 1 message in the copy$/m);
    expect(synced.out).toMatch(/^ {2}Sent +0 new, 0 removed \(gone from the server\), 0 messages in the copy$/m);
    // BODY.PEEK[]: still unread on the server.
    const folders = await client(['folders', '--user', user], dadali);
    expect(folders.out).toMatch(/^INBOX +1 +1/m);

    await dadaliDown(true);
    try {
      expect((await client(['list', '--user', user, '--protocol', 'imap'], dadali)).err).toBe(`error: nothing listens on 127.0.0.1:${port('dadali.com', 'imap')} (is the lab up?)\n`);
      const offline = await client(['list', '--offline', '--protocol', 'imap', '--user', user], dadali);
      expect(offline).toMatchObject({ code: 0, err: '' });
      expect(offline.out).toMatch(/^ +\d+ .*Luring satu/m);
      expect(offline.out).toMatch(/siswa2@dadali.com INBOX \(offline copy, synced \d{4}-\d\d-\d\d \d\d:\d\d UTC\): 1 message, \d+ octets\n$/);
      const uid = uidOf('Luring satu', offline.out);
      const read = await client(['read', '--offline', '--protocol', 'imap', '--user', user, String(uid)], dadali);
      expect(read.out).toMatch(/^Subject: Luring satu\n\nDibaca tanpa server\.\n$/m);
      const arsip = await client(['list', '--offline', '--protocol', 'imap', '--folder', 'Arsip', '--user', user], dadali);
      expect(arsip.out).toMatch(/^ +\d+ .*Luring arsip/m);
      const local = await client(['folders', '--offline', '--user', user], dadali);
      expect(local.out).toMatch(/^Arsip +1 +1 +\d{4}-/m);
      expect(local.out).toMatch(/^INBOX +1 +1 +\d{4}-/m);
      // Syncing needs the server, and says so.
      expect((await client(['sync', '--user', user], dadali)).code).toBe(1);
    } finally {
      await dadaliDown(false);
    }
  });

  test('the next sync brings new mail and drops what was expunged on the server; a new UIDVALIDITY starts the copy afresh', async () => {
    const listed = await client(['list', '--user', user, '--protocol', 'imap'], dadali);
    const uid = Number(/^ +(\d+) .*Luring satu/m.exec(listed.out)![1]);
    expect((await client(['delete', '--user', user, '--protocol', 'imap', String(uid)], dadali)).code).toBe(0);
    await sendOk(dadali, 'jpri@dadali.com', user, 'Luring baru');
    await arrived('dadali.com', 'siswa2', 'Luring baru');
    const synced = await client(['sync', '--user', user, '--folder', 'INBOX'], dadali);
    expect(synced.out).toMatch(/^ {2}INBOX +1 new, 1 removed \(gone from the server\), 1 message in the copy$/m);
    expect(synced.out).not.toContain('Arsip');
    const dir = join(testLocalDir(), user, 'imap', 'INBOX');
    expect(existsSync(join(dir, `${uid}.eml`))).toBe(false);

    const state = JSON.parse(readFileSync(join(dir, 'folder.json'), 'utf8'));
    writeFileSync(join(dir, 'folder.json'), JSON.stringify({ ...state, uidValidity: '1' }));
    const again = await client(['sync', '--user', user, '--folder', 'INBOX'], dadali);
    expect(again.out).toMatch(/^ {2}INBOX +1 new, 0 removed \(gone from the server\), 1 message in the copy, UIDVALIDITY changed: copied afresh$/m);
  });
});

describe('the outbox', () => {
  const from = 'siswa3@garudayaksa.com';
  const garudaDown = (on: boolean) => lab.domains['garudayaksa.com'].faults.setServerDown(on, true);
  const outboxDir = () => join(testLocalDir(), from, 'outbox');

  test('written while the server is down: kept; sent oldest first by the next send once it is back', async () => {
    await garudaDown(true);
    try {
      const first = await client(['send', '--from', from, '--to', 'jpri@dadali.com', '--subject', 'Keluar satu', '--body', 'Ditulis saat server mati.'], garuda);
      expect(first).toMatchObject({ code: 0, err: '' });
      expect(first.out).toBe(
        `not sent now: nothing listens on 127.0.0.1:${port('garudayaksa.com', 'submission')} (is the lab up?)\n` +
          `kept in the outbox of ${from} as ${readdirSync(outboxDir()).find((f) => f.endsWith('.json'))!.replace('.json', '')} (1 message waiting)\n` +
          `it goes out with the next send, or now with: mail-lab-client outbox flush --from ${from} (the outbox: ${outboxDir()})\n`,
      );
      const later = await client(['send', '--from', from, '--to', 'jpri@dadali.com', '--subject', 'Keluar dua', '--later'], garuda);
      expect(later.out).toMatch(/^kept in the outbox of siswa3@garudayaksa.com as \S+ \(2 messages waiting\)$/m);
      const listed = await client(['outbox', 'list'], garuda);
      // Only outboxes with something in them (the other accounts of this file have none).
      expect(listed.out).not.toContain('siswa1@dadali.com');
      expect(listed.out).toMatch(/^outbox of siswa3@garudayaksa.com \(.*\): 2 messages waiting$/m);
      expect(listed.out).toMatch(/^ {2}\S+ +\d{4}-\d\d-\d\d \d\d:\d\d {2}jpri@dadali.com +Keluar satu +1$/m);
      expect(listed.out).toMatch(/^ {6}last try .*: nothing listens on 127\.0\.0\.1:\d+ \(is the lab up\?\)$/m);
      expect(listed.out).toMatch(/^ {2}\S+ +\d{4}-\d\d-\d\d \d\d:\d\d {2}jpri@dadali.com +Keluar dua +0$/m);
      const flush = await client(['outbox', 'flush', '--from', from], garuda);
      expect(flush.code).toBe(1);
      expect(flush.out).toBe(`outbox of ${from}: 0 messages sent, 2 still waiting\n`);
      expect(flush.err).toBe(`error: 2 messages still in the outbox of ${from}: nothing listens on 127.0.0.1:${port('garudayaksa.com', 'submission')} (is the lab up?)\n`);
      // A third written while down goes in behind them without trying the server for each one.
      const third = await client(['send', '--from', from, '--to', 'jpri@dadali.com', '--subject', 'Keluar tiga'], garuda);
      expect(third.out).toMatch(/\(3 messages waiting\)/);
    } finally {
      await garudaDown(false);
    }
    const ids = JSON.parse(readFileSync(join(outboxDir(), readdirSync(outboxDir()).filter((f) => f.endsWith('.json')).sort()[0]), 'utf8'));

    const back = await client(['send', '--from', from, '--to', 'jpri@dadali.com', '--subject', 'Keluar empat'], garuda);
    expect(back).toMatchObject({ code: 0, err: '' });
    const lines = back.out.trimEnd().split('\n');
    expect(lines.map((l) => l.replace(/ \(written .*$/, ''))).toEqual([
      expect.stringMatching(/^outbox: sent \S+ "Keluar satu"$/),
      expect.stringMatching(/^outbox: sent \S+ "Keluar dua"$/),
      expect.stringMatching(/^outbox: sent \S+ "Keluar tiga"$/),
      expect.stringMatching(/^250 .*queued as/),
    ]);
    for (const s of ['Keluar satu', 'Keluar dua', 'Keluar tiga', 'Keluar empat']) await arrived('dadali.com', 'jpri', s);
    const mails = await inbox(lab, 'dadali.com', 'jpri');
    const order = ['Keluar satu', 'Keluar dua', 'Keluar tiga', 'Keluar empat'].map((s) => mails.findIndex((m) => m.includes(`\r\nSubject: ${s}\r\n`)));
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    // It went out as it was written: the Message-ID given when it entered the outbox.
    expect(withSubject(mails, 'Keluar satu')[0]).toContain(`\r\nMessage-ID: ${ids.messageId}\r\n`);
    expect((await client(['outbox', 'list', '--from', from], garuda)).out).toBe(`outbox of ${from}: empty\n`);
    expect((await client(['outbox', 'flush', '--from', from], garuda)).out).toBe(`the outbox of ${from} is empty; nothing to send\n`);
  });

  test('a message the server refuses stays with the reason until it is deleted', async () => {
    await client(['send', '--from', from, '--to', 'nobody@garudayaksa.com', '--subject', 'Tidak ada orangnya', '--later'], garuda);
    const flush = await client(['outbox', 'flush', '--from', from], garuda);
    expect(flush.code).toBe(1);
    expect(flush.err).toMatch(/^outbox: (\S+) "Tidak ada orangnya" was not sent: the server refused the recipients: nobody@garudayaksa.com: 55\d .*; it stays in the outbox \(mail-lab-client outbox delete \1 --from siswa3@garudayaksa.com removes it\)\n/);
    const id = /^outbox: (\S+) /.exec(flush.err)![1];
    expect((await client(['outbox', 'list', '--from', from], garuda)).out).toMatch(/last try .*: the server refused the recipients: nobody@garudayaksa.com: 55\d/);
    expect((await client(['outbox', 'delete', id, '--from', from], garuda)).out).toBe(`deleted ${id} from the outbox of ${from}\n`);
    expect((await client(['outbox', 'delete', id, '--from', from], garuda)).err).toBe(`error: the outbox of ${from} has no message ${id} (see: mail-lab-client outbox list --from ${from})\n`);
    expect((await client(['send', '--from', from, '--to', 'jpri@dadali.com', '--subject', 'x', '--later', '--no-outbox'], garuda)).code).toBe(2);
  });
});
