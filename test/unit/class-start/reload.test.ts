/**
 * `npx mail-lab reload` on a real lab (issue 13): a changed lab definition
 * taken without a restart, checked with real clients: a new account logs in
 * over IMAP at once (Python's imaplib), a new alias takes mail, `dig` sees a
 * second MX record; a definition with problems names every one and changes
 * nothing; a change that needs a restart is refused with the reason; an
 * account that still has mail is removed only with --force, and its mailbox
 * stays on disk.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAIL_API } from '../../../services/core/src/admin/api';
import { reloadLab } from '../../../scripts/reload/reload';
import { startTestLab, eventually, type TestLab } from '../helpers/test-lab';
import { accountLine, digMx, imap, labYaml, sendSmtp, subjects, withAccount } from './helpers';

let lab: TestLab;
beforeAll(async () => {
  lab = await startTestLab();
}, 60_000);
afterAll(() => lab?.close());

const reload = (text: string, o: { force?: boolean; dryRun?: boolean } = {}) => reloadLab(0, () => lab.target(), text, 'lab.yaml', o);
const withSiswa6 = () => withAccount(labYaml(), accountLine('siswa6', 'Siswa 6')).replace('      kelas: [siswa1, siswa2, siswa3, siswa4, siswa5]\n', '      kelas: [siswa1, siswa2, siswa3, siswa4, siswa5]\n      tu: [mbrain, siswa6]\n');

test('an account and an alias added: the account logs in over IMAP at once, the alias takes mail', async () => {
  expect(await imap(lab, 'garudayaksa.com', 'siswa6', 'print("in")')).toMatch(/^LOGIN-FAILED/);
  const dry = await reload(withSiswa6(), { dryRun: true });
  expect(dry).toMatchObject({ exit: 0, changes: ['garudayaksa.com: account siswa6 added', 'garudayaksa.com: alias tu added (mbrain, siswa6)'] });
  expect(await imap(lab, 'garudayaksa.com', 'siswa6', 'print("in")')).toMatch(/^LOGIN-FAILED/);
  const r = await reload(withSiswa6());
  expect(r.exit).toBe(0);
  expect(r.lines).toContainEqual(expect.stringMatching(/^taken in \d+ ms without a restart \(the lab DNS \d+ ms, garudayaksa\.com \d+ ms, dadali\.com \d+ ms\); mail, queues and the lab CA are as they were$/));
  expect(await imap(lab, 'garudayaksa.com', 'siswa6', 'print(m.select("INBOX")[0])')).toBe('OK');
  expect(await sendSmtp(lab, 'garudayaksa.com', 'jpri@dadali.com', ['tu@garudayaksa.com'], 'Untuk tata usaha')).toMatch(/^250 /);
  await eventually('the alias delivered to siswa6', async () => (await subjects(lab, 'garudayaksa.com', 'siswa6')).includes('Untuk tata usaha'));
  // The same definition again: nothing to do.
  expect((await reload(withSiswa6())).lines).toEqual(['lab.yaml: the lab already runs this definition; nothing to change']);
}, 60_000);

test('a second MX with a higher preference number: dig sees it at once', async () => {
  expect(await digMx(lab, 'garudayaksa.com')).toEqual(['10 mail.garudayaksa.com.']);
  const text = withSiswa6()
    .replace('      - { host: mail.garudayaksa.com, preference: 10 }\n', '      - { host: mail.garudayaksa.com, preference: 10 }\n      - { host: mail.dadali.com, preference: 20 }\n')
    .replace('    mx:\n      - { host: mail.dadali.com, preference: 10 }\n', '    relayDomains: [garudayaksa.com]\n    mx:\n      - { host: mail.dadali.com, preference: 10 }\n');
  const r = await reload(text);
  expect(r.changes).toEqual(['garudayaksa.com: MX 10 mail.garudayaksa.com -> 10 mail.garudayaksa.com, 20 mail.dadali.com', 'dadali.com: backup MX for garudayaksa.com (relayDomains)']);
  expect(await digMx(lab, 'garudayaksa.com')).toEqual(['10 mail.garudayaksa.com.', '20 mail.dadali.com.']);
  // Back to one MX (the backup MX itself: backup-mx.test.ts).
  expect((await reload(withSiswa6())).exit).toBe(0);
  expect(await digMx(lab, 'garudayaksa.com')).toEqual(['10 mail.garudayaksa.com.']);
}, 60_000);

test('a definition with problems: every one named with its place, nothing changed', async () => {
  const text = withAccount(withSiswa6(), accountLine('siswa7', 'Siswa 7'))
    .replace('{ user: siswa7,', '{ user: "Siswa 7",')
    .replace('      - { host: mail.garudayaksa.com, preference: 10 }\n', '      - { host: mail.garudayaksa.com, preference: 10 }\n      - { host: mail.dadali.com, preference: 99999 }\n');
  const r = await reload(text);
  expect(r.exit).toBe(2);
  expect(r.lines.filter((l) => / error: /.test(l))).toEqual([
    expect.stringMatching(/^lab\.yaml:\d+:\d+: error: domains\[0\]\.mx\[1\]\.preference: /),
    expect.stringMatching(/^lab\.yaml:\d+:\d+: error: domains\[0\]\.accounts\[7\]\.user: is not a valid user name$/),
  ]);
  expect(r.lines).toContainEqual('lab.yaml: 2 problem(s)');
  expect(r.lines[r.lines.length - 1]).toBe('nothing was changed: the running lab is as it was');
  expect(await imap(lab, 'garudayaksa.com', 'siswa7', 'print("in")')).toMatch(/^LOGIN-FAILED/);
  expect(await digMx(lab, 'garudayaksa.com')).toEqual(['10 mail.garudayaksa.com.']);
  // Past the schema, the cross-checks name theirs the same way.
  const alias = await reload(withSiswa6().replace('      tu: [mbrain, siswa6]\n', '      tu: [mbrain, siswa6, nobody]\n').replace('{ user: siswa6,', '{ user: siswa5,'));
  expect(alias.lines.filter((l) => / error: /.test(l))).toEqual([
    expect.stringMatching(/^lab\.yaml:\d+:\d+: error: domains\[0\]\.accounts\[7\]\.user: account siswa5@garudayaksa\.com is defined twice$/),
    expect.stringMatching(/^lab\.yaml:\d+:\d+: error: domains\[0\]\.aliases\.tu\[1\]: "siswa6" is not an account of garudayaksa\.com$/),
    expect.stringMatching(/^lab\.yaml:\d+:\d+: error: domains\[0\]\.aliases\.tu\[2\]: "nobody" is not an account of garudayaksa\.com$/),
  ]);
  expect(await imap(lab, 'garudayaksa.com', 'siswa6', 'print(m.select("INBOX")[0])')).toBe('OK');
}, 60_000);

test('changes that need a restart are refused with the reason', async () => {
  const text = withSiswa6().replace('network:\n  subnet: 172.29.25.0/24', 'network:\n  subnet: 172.29.25.0/24').replace('limits:\n  maxMessageSize: 10485760', 'limits:\n  maxMessageSize: 2097152').replace(/  - name: dadali\.com\n/, '  - name: dadali.com\n');
  const more = text.replace(/(domains:\n)/, '$1  - { name: sekolah.sch.id, mailHost: mail.sekolah.sch.id, address: 172.29.25.30, ports: { smtp: 30025, submission: 30587, pop3: 30110, imap: 30143, admin: 30080 }, accounts: [{ user: a, password: x }] }\n');
  const r = await reload(more);
  expect(r.exit).toBe(2);
  expect(r.lines).toContainEqual('these changes need a restart (`npx mail-lab down`, then `up`):');
  expect(r.lines).toContainEqual('  domain sekolah.sch.id added: a domain of its own needs its own mail server (a container or a process), address and ports');
  const limits = await reload(text);
  expect(limits.exit).toBe(2);
  expect(limits.lines).toContainEqual('  limits.maxMessageSize: the SMTP, POP3 and IMAP servers take it when they start');
  expect(await imap(lab, 'garudayaksa.com', 'siswa6', 'print(m.select("INBOX")[0])')).toBe('OK');
}, 60_000);

test('an account that still has mail is removed only with --force; its mailbox stays on disk and comes back with it', async () => {
  expect(await subjects(lab, 'garudayaksa.com', 'siswa6')).toEqual(['Untuk tata usaha']);
  const refused = await reload(labYaml());
  expect(refused.exit).toBe(2);
  expect(refused.lines).toContainEqual('siswa6@garudayaksa.com still has mail (1 message(s) in its folders, 0 waiting in the queue): not removed');
  expect(await imap(lab, 'garudayaksa.com', 'siswa6', 'print(m.select("INBOX")[0])')).toBe('OK');
  const forced = await reload(labYaml(), { force: true });
  expect(forced.exit).toBe(0);
  const file = join(lab.dataDir, 'garudayaksa.com', 'mail', 'siswa6');
  expect(forced.lines).toContainEqual(`siswa6@garudayaksa.com removed; its mailbox stays on disk: ${file}. Add the account again to get it back`);
  expect(await imap(lab, 'garudayaksa.com', 'siswa6', 'print("in")')).toMatch(/^LOGIN-FAILED/);
  expect(existsSync(file) && readFileSync(file, 'latin1')).toMatch(/Subject: Untuk tata usaha/);
  expect((await sendSmtp(lab, 'garudayaksa.com', 'jpri@dadali.com', ['siswa6@garudayaksa.com'], 'x').catch((e: Error) => e.message))).toMatch(/550 5\.1\.1/);
  await expect(lab.target().mail('garudayaksa.com').call(MAIL_API.mailbox, { user: 'siswa6' })).rejects.toThrow(/no user siswa6/);
  // Added again: the mail is there.
  expect((await reload(withSiswa6())).exit).toBe(0);
  expect(await imap(lab, 'garudayaksa.com', 'siswa6', 'm.select("INBOX"); print(m.search(None,"ALL")[1][0].decode())')).toBe('1');
}, 60_000);
