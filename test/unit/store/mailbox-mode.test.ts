/**
 * Issue 9: a mailbox file has one mode (MAILBOX_MODE, rw-r--r--) whatever
 * its history, and every documented way of reading it works after each
 * step: deliver, POP3 DELE + QUIT (the file is rewritten), deliver again,
 * IMAP EXPUNGE, IMAP RENAME of INBOX, and a file an older version left
 * 0600. Read by: the file itself as a reader that is neither the owner nor
 * privileged (root without capabilities, as `docker exec -u root` is in the
 * lab's containers), the admin API, and the scenario runner's mailbox-file
 * step.
 */
import { execFile } from 'node:child_process';
import { chmodSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import nodemailer from 'nodemailer';
import { MAILBOX_MODE } from '../../../services/mail-domain/src/store/paths';
import { MAIL_API } from '../../../services/core/src/admin/api';
import { mailboxFile } from '../../../scripts/scenario/reading-steps';
import { eventually, startTestLab, type TestLab } from '../helpers/test-lab';

const run = promisify(execFile);
let lab: TestLab;
const DOMAIN = 'dadali.com';

beforeAll(async () => {
  lab = await startTestLab();
});
afterAll(() => lab.close());

const mboxOf = (user: string) => join(lab.dataDir, DOMAIN, 'mail', user);
const modeOf = (path: string) => statSync(path).mode & 0o777;

async function deliver(to: string, subject: string): Promise<void> {
  const d = lab.config.domains.find((x) => x.name === DOMAIN)!;
  const t = nodemailer.createTransport({ host: '127.0.0.1', port: d.ports.smtp, secure: false, ignoreTLS: true });
  try {
    await t.sendMail({ from: 'mbrain@garudayaksa.com', to, subject, text: 'Halo.\n' });
  } finally {
    t.close();
  }
  await eventually(`${subject} in the mailbox`, () => readFileSync(mboxOf(to.split('@')[0]), 'latin1').includes(`Subject: ${subject}`));
}

/** POP3 as a mail program that does not keep mail (Python's poplib): RETR and DELE every message, QUIT. */
async function pop3DownloadAll(user: string): Promise<void> {
  const port = lab.config.domains.find((x) => x.name === DOMAIN)!.ports.pop3;
  const script = [
    'import poplib, sys',
    'p = poplib.POP3("127.0.0.1", int(sys.argv[1]), timeout=10)',
    'p.user(sys.argv[2]); p.pass_("rahasia123")',
    'n = len(p.list()[1])',
    'for i in range(1, n + 1): p.retr(i); p.dele(i)',
    'print(p.quit().decode())',
  ].join('\n');
  const r = await run('python3', ['-c', script, String(port), user]);
  expect(r.stdout).toMatch(/^\+OK/);
}

/**
 * Reads the file as root without any capability (no CAP_DAC_OVERRIDE), as
 * `docker exec -u root` does in the lab's containers, which drop them all.
 * Only possible when the tests run as root; otherwise the mode check stands.
 */
async function readAsUnprivilegedRoot(path: string): Promise<string | null> {
  if (process.getuid?.() !== 0) return null;
  const r = await run('setpriv', ['--bounding-set=-all', '--inh-caps=-all', '--', 'cat', path]);
  return r.stdout;
}

/** Every documented reader sees the file; returns what they saw, for the caller's checks. */
async function readEveryWay(user: string): Promise<{ file: string; admin: string; runner: string[] }> {
  const path = mboxOf(user);
  expect(modeOf(path).toString(8)).toBe(MAILBOX_MODE.toString(8));
  const file = readFileSync(path, 'latin1');
  const asRoot = await readAsUnprivilegedRoot(path);
  if (asRoot !== null) expect(asRoot).toBe(file);
  const target = lab.target();
  const admin = await target.mail(DOMAIN).call(MAIL_API.mailbox, { user });
  expect(admin.text).toBe(file);
  const count = (file.match(/(^|\n\n)From /g) ?? []).length;
  const runner = await mailboxFile(target, { domain: DOMAIN, user, messages: count }, new Map());
  return { file, admin: admin.text, runner };
}

test('deliver, POP3 DELE + QUIT, deliver again: the file keeps its mode and every documented reader reads it', async () => {
  await deliver('siswa3@dadali.com', 'Pertama');
  expect((await readEveryWay('siswa3')).file).toContain('Subject: Pertama');
  await pop3DownloadAll('siswa3');
  expect((await readEveryWay('siswa3')).file).toBe('');
  await deliver('siswa3@dadali.com', 'Kedua');
  const after = await readEveryWay('siswa3');
  expect(after.file).toContain('Subject: Kedua');
  expect(after.file).not.toContain('Subject: Pertama');
  expect(after.runner.join('\n')).toContain('1');
}, 30_000);

test('IMAP EXPUNGE and RENAME of INBOX leave every mailbox file with the same mode', async () => {
  await deliver('siswa4@dadali.com', 'Satu');
  await deliver('siswa4@dadali.com', 'Dua');
  const store = lab.domains[DOMAIN].store;
  const snap = await store.snapshot('siswa4', 'INBOX');
  await store.expunge('siswa4', 'INBOX', [snap.messages[0].uid]);
  expect((await readEveryWay('siswa4')).file).not.toContain('Subject: Satu');
  await store.renameFolder('siswa4', 'INBOX', 'Arsip');
  expect(modeOf(store.mboxPath('siswa4', 'Arsip')).toString(8)).toBe('644');
  expect((await readEveryWay('siswa4')).file).toBe('');
  await store.createFolder('siswa4', 'Baru');
  expect(modeOf(store.mboxPath('siswa4', 'Baru')).toString(8)).toBe('644');
}, 30_000);

test('a mailbox file an older version left 0600 is 0644 again after a restart', async () => {
  await deliver('siswa5@dadali.com', 'Lama');
  chmodSync(mboxOf('siswa5'), 0o600);
  await lab.stopDomain(DOMAIN);
  await lab.startDomain(DOMAIN);
  expect((await readEveryWay('siswa5')).file).toContain('Subject: Lama');
}, 30_000);
